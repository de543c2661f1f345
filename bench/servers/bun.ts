/**
 * Bun 1.4 (`Bun.serve`, which embeds uWebSockets) as a benchmark server process speaking
 * protocol.ts, run by Bun itself (launch.ts spawns `bun` for this kind; lib/bun.ts finds it):
 *
 *   bun dist/bench/servers/bun.js --port 0 --mode echo|broadcast|idle [--deflate on]
 *
 * echo sends each message back; broadcast publishes it to every connection (one topic every
 * connection joins, the sender included), as uws.ts does; `GET /healthz` answers 200 `ok`, other plain requests 426. Bun's own
 * limits are lifted to match the others: no idle timeout, 16 MiB messages, no backpressure limit.
 * `--deflate on` (bench:deflate's `bun-deflate` kind) negotiates permessage-deflate with Bun's shared
 * compressor and decompressor, and compresses every send and publish, as uws.ts does with uWS's
 * SHARED_COMPRESSOR.
 * `gc` runs Bun.gc(true). Compiled by tsc like the rest of bench/, with Bun's API declared below.
 */
import { type BenchServer, isMain, runServerProcess, type ServerArgs } from './protocol.js';

interface BunSocket {
  send(data: string | Uint8Array, compress?: boolean): number;
  subscribe(topic: string): void;
}
interface BunServer {
  port: number;
  upgrade(request: Request): boolean;
  publish(topic: string, data: string | Uint8Array, compress?: boolean): number;
  stop(closeActive?: boolean): void;
}
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: BunServer): Response | undefined;
    websocket: {
      idleTimeout: number;
      maxPayloadLength: number;
      backpressureLimit: number;
      perMessageDeflate: boolean | { compress: 'shared'; decompress: 'shared' };
      open(ws: BunSocket): void;
      close(ws: BunSocket): void;
      message(ws: BunSocket, message: string | Uint8Array): void;
    };
  }): BunServer;
  gc(force: boolean): void;
};

const ALL = 'all';

/** Bun's server in `mode` on host:port, as a BenchServer (also bench:idle's `bun` kind, servers/idle-server.ts). */
export function startBun({
  port,
  host,
  mode,
  deflate = 'off',
}: Pick<ServerArgs, 'port' | 'host' | 'mode'> & { deflate?: ServerArgs['deflate'] }): BenchServer {
  const compress = deflate !== 'off';
  let connections = 0;
  const server = Bun.serve({
    hostname: host,
    port,
    fetch(request, server) {
      if (new URL(request.url).pathname === '/healthz') return new Response('ok');
      if (server.upgrade(request)) return undefined;
      return new Response('upgrade required', { status: 426 });
    },
    websocket: {
      idleTimeout: 0,
      maxPayloadLength: 16 * 1024 * 1024,
      backpressureLimit: 64 * 1024 * 1024,
      perMessageDeflate: compress ? { compress: 'shared', decompress: 'shared' } : false,
      open(ws) {
        connections++;
        ws.subscribe(ALL); // the `broadcast` command reaches every connection in any mode
      },
      close() {
        connections--;
      },
      message(ws, message) {
        if (mode === 'echo') ws.send(message, compress);
        else if (mode === 'broadcast') server.publish(ALL, message, compress);
      },
    },
  });
  // protocol.ts's `gc` command (and idle-server's measure) call globalThis.gc: Bun's full collection stands in for V8's.
  globalThis.gc ??= (() => Bun.gc(true)) as unknown as typeof globalThis.gc;
  return {
    port: server.port,
    native: true,
    connections: () => connections,
    broadcast: (data, isBinary) => {
      server.publish(ALL, isBinary ? data : data.toString(), compress);
      return connections;
    },
    close: () => server.stop(true),
    info: { runtime: 'bun', deflate: compress ? 'shared' : 'off' },
  };
}

if (isMain(import.meta.url)) await runServerProcess('bun', (args) => Promise.resolve(startBun(args)));
