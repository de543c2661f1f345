/**
 * uWebSockets.js as a benchmark server process (see protocol.ts), from the npm package
 * `@trufflesuite/uws-js-unofficial` (a devDependency: a build of uWS.js v20.30 with Linux x64
 * binaries for Node ABIs 93, 108 and 115, i.e. Node 16, 18 and 20):
 *
 *   node dist/bench/servers/uws.js --port 0 --mode echo|broadcast|idle
 *
 * That package never fails to load: its src/uws.js tries
 * `require('../binaries/uws_<platform>_<arch>_<process.versions.modules>.node')` and, if that
 * throws (no binary for this Node, --no-addons, a libc mismatch), console.warn()s and returns
 * a pure-JS imitation built on `ws` (dist/index.js); UWS_USE_FALLBACK=1 forces the imitation.
 * Benchmarking the imitation as "uWS" would be wrong, so `native` is checked, not assumed: it is
 * true only if that exact .node file is in require.cache after the load (Node drops a module
 * from the cache when its load throws), and `nativeError` keeps what the loader warned.
 */
import { createRequire } from 'node:module';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
import { sleep } from '../lib/time.js';
import { type BenchServer, type Mode, isMain, runServerProcess } from './protocol.js';

const require = createRequire(import.meta.url);
const PACKAGE = '@trufflesuite/uws-js-unofficial';

export interface UwsLoad {
  uws: typeof Uws;
  /** The native binary really loaded (not the JS fallback). */
  native: boolean;
  /** The binary it looked for. */
  binary: string;
  /** Why it fell back, as the loader said (null when native). */
  nativeError: string | null;
}

let loaded: UwsLoad | undefined;

/** Loads the package once, keeping stdout clean (its fallback notice goes there) and recording what it said. */
export function loadUws(): UwsLoad {
  if (loaded !== undefined) return loaded;
  const binaryName = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const said: string[] = [];
  const { log, warn } = console;
  console.log = console.warn = (...args: unknown[]) => void said.push(args.map(String).join(' '));
  let uws: typeof Uws;
  try {
    uws = require(PACKAGE) as typeof Uws;
  } finally {
    console.log = log;
    console.warn = warn;
  }
  let binary = binaryName;
  try {
    binary = require.resolve(`${PACKAGE}/binaries/${binaryName}`);
  } catch {
    said.unshift(`no ${binaryName} in ${PACKAGE}`);
  }
  const native = require.cache[binary] !== undefined;
  const nativeError = native ? null : said.join(' ').replace(/\s+/g, ' ').trim() || 'unknown';
  if (!native)
    process.stderr.write(`uws: native binary not loaded, the package fell back to JavaScript: ${nativeError}\n`);
  return (loaded = { uws, native, binary, nativeError });
}

export async function startUws(
  port: number,
  handlers: Mode,
  host = '127.0.0.1',
  deflate = false,
): Promise<BenchServer> {
  const { uws, native, binary, nativeError } = loadUws();
  const mode = handlers;
  const app = uws.App();
  const sockets = new Set<Uws.WebSocket<unknown>>();
  const ALL = 'all';
  app.ws<unknown>('/*', {
    // deflate: one compressor and one decompressor for all sockets, uWS's densest choice.
    compression: deflate ? uws.SHARED_COMPRESSOR | uws.SHARED_DECOMPRESSOR : uws.DISABLED,
    maxPayloadLength: 16 * 1024 * 1024, // lightws's default maxMessageSize
    idleTimeout: 0, // lightws's default: no idle timeout (the idle benchmark holds connections)
    maxBackpressure: 64 * 1024 * 1024, // queue rather than skip slow receivers, as lightws does
    open: (ws) => {
      sockets.add(ws);
      if (mode === 'broadcast') ws.subscribe(ALL);
    },
    close: (ws) => void sockets.delete(ws),
    message:
      // uWS compresses a message only when asked to (the third argument), once negotiated.
      mode === 'echo'
        ? (ws, message, isBinary) => void ws.send(message, isBinary, deflate)
        : mode === 'broadcast'
          ? (_ws, message, isBinary) => void app.publish(ALL, message, isBinary, deflate)
          : undefined,
  });
  app.get(
    '/healthz',
    (res) =>
      void res
        .writeHeader('Content-Type', 'text/plain; charset=utf-8')
        .writeHeader('Cache-Control', 'no-store')
        .end('ok\n'),
  );
  const listenSocket = await new Promise<Uws.us_listen_socket>((resolve, reject) => {
    app.listen(host, port, (socket) =>
      socket ? resolve(socket) : reject(new Error(`uws could not listen on ${host}:${port}`)),
    );
  });
  const bound = uws.us_socket_local_port(listenSocket);
  return {
    port: bound,
    native,
    info: { binary, nativeError },
    connections: () => sockets.size,
    broadcast: (data, isBinary) => {
      if (mode === 'broadcast') {
        app.publish(ALL, data, isBinary, deflate); // uWS's own fan-out: every socket subscribes to ALL
        return sockets.size;
      }
      for (const ws of sockets) ws.send(data, isBinary, deflate);
      return sockets.size;
    },
    close: async () => {
      uws.us_listen_socket_close(listenSocket);
      for (const ws of [...sockets]) ws.end(1001);
      const deadline = Date.now() + 1_000;
      while (sockets.size > 0 && Date.now() < deadline) await sleep(20);
      for (const ws of [...sockets]) ws.close();
    },
  };
}

if (isMain(import.meta.url)) {
  void runServerProcess('uws', ({ port, host, mode, deflate }) => startUws(port, mode, host, deflate !== 'off'));
}
