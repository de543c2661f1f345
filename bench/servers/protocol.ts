/**
 * The process protocol of the three library servers, lightws.ts, ws.ts and uws.ts, so that an
 * orchestrator spawns and drives them all the same way (servers/launch.ts: bench:echo,
 * bench:handshake, bench:broadcast; bench/profile.ts runs lightws.js under a profiler):
 *
 *   node [--expose-gc] dist/bench/servers/<kind>.js --port 0 --mode echo|broadcast|idle [--transport handle|socket] [--deflate off|shared|window|on] [--diagnostics] [--limit-young]
 *
 * Every server also answers `GET /healthz` with 200 `ok` over plain HTTP on its port (bench:http),
 * lightws with its built-in healthPath, ws through the node:http server it sits behind, uWS with
 * `app.get`; other plain requests get 426 (lightws, ws) or 404 (uWS).
 *
 * stdout carries JSON lines only. The first is `{"ready":true,"port":N,"native":bool,"pid":P,...}`.
 * Then each line on stdin is a command, answered by one JSON line:
 *
 *   stats                          → {"connections","rss","heapUsed","heapTotal","external","arrayBuffers","cpuUser","cpuSystem"}
 *                                    (memoryUsage() in bytes, cpuUsage() in µs since the process started)
 *   gc                             → {"ok":true} (a full GC; {"ok":false,"error"} without --expose-gc)
 *   broadcast <bytes> [binary|text] [json] → {"sent":N,"ms":T}: one message of that size to every connection
 *                                    (binary by default), N receivers, T ms spent in the send call(s)
 *   close                          → {"closed":true}, then the process exits 0
 *
 * Anything else answers {"error":"..."}. The process closes the server and exits 0 on stdin end,
 * `close`, SIGINT or SIGTERM (within 3 s of the close). Diagnostics go to stderr, never stdout.
 * Commands are read only from a piped stdin: run from a terminal, it serves until Ctrl+C.
 *
 * The other servers in this folder do not speak it, because they measure themselves from inside
 * and answer with structured reports that a line of `stats` cannot carry. Their commands and
 * reports are typed in their own files; the first three are forked with an IPC channel
 * (lib/children.ts IpcChild):
 * - gc-observer.ts (bench:garbage): GC and allocation windows, the sampling heap profiler; it
 *   runs the same three servers (startLightws, startWs, startUws) inside;
 * - idle-server.ts (bench:idle): forced GCs, /proc/self/smaps, heap snapshots and their diff;
 * - heartbeat-server.ts (bench:heartbeat): heartbeat counters of lightws's stats();
 * - million-cluster.ts (bench:million): a cluster; JSON lines like this protocol, but each
 *   answer is typed (`{"type":"stats",...}`) and summed over the workers by the primary.
 */
import { type Stats, fstatSync, realpathSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { jsonPayload } from '../lib/json-payload.js';

export type Mode = 'echo' | 'broadcast' | 'idle';
export const MODES: readonly Mode[] = ['echo', 'broadcast', 'idle'];

/**
 * A running server, whatever library is under it.
 * - echo: every message goes back to its sender, binary or text as it came.
 * - broadcast: every message goes to every open connection, the sender included.
 * - idle: messages are read and dropped; only the connections are held.
 */
export interface BenchServer {
  port: number;
  /** Does this server run native code for the WebSocket work (uWS binary, ws's bufferutil)? */
  native: boolean;
  /** Open WebSocket connections. */
  connections(): number;
  /** Sends `data` to every open connection; returns how many it went to. */
  broadcast(data: Buffer, isBinary: boolean): number;
  /** Stops listening and closes the connections (resolves when done, bounded in time). */
  close(): void | Promise<void>;
  /** Extra fields for the ready line (e.g. transport, why native code did not load). */
  info?: Record<string, unknown>;
}

export interface ServerArgs {
  port: number;
  host: string;
  mode: Mode;
  /** lightws only: 'handle' or 'socket'. */
  transport: string | undefined;
  /** lightws only: subscribe a no-op to every lightws diagnostics channel (what an APM agent does). */
  diagnostics: boolean;
  /** lightws only: limitYoungGeneration() before the server starts, as `lightws echo` does. */
  limitYoung: boolean;
  /**
   * permessage-deflate: lightws 'shared' or 'window'; ws and uWS 'on' (ws's perMessageDeflate with
   * its defaults, uWS's SHARED_COMPRESSOR); 'off' for none.
   */
  deflate: DeflateChoice;
}

export type DeflateChoice = 'off' | 'shared' | 'window' | 'on';

export function parseServerArgs(argv: string[] = process.argv.slice(2)): ServerArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      mode: { type: 'string', default: 'echo' },
      deflate: { type: 'string', default: 'off' },
      transport: { type: 'string' },
      diagnostics: { type: 'boolean', default: false },
      'limit-young': { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`--port must be 0–65535, not ${values.port}`);
  const mode = values.mode as Mode;
  if (!MODES.includes(mode)) throw new RangeError(`--mode must be ${MODES.join('|')}, not ${values.mode}`);
  const deflate = values.deflate as DeflateChoice;
  if (!['off', 'shared', 'window', 'on'].includes(deflate))
    throw new RangeError(`--deflate must be off|shared|window|on, not ${values.deflate}`);
  return {
    port,
    host: values.host,
    mode,
    transport: values.transport,
    diagnostics: values.diagnostics === true,
    limitYoung: values['limit-young'] === true,
    deflate,
  };
}

function line(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Answers one command line; exported for tests. */
export function answer(server: BenchServer, command: string): unknown {
  const [name, ...rest] = command.trim().split(/\s+/);
  switch (name) {
    case 'stats': {
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      return {
        connections: server.connections(),
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers,
        cpuUser: cpu.user,
        cpuSystem: cpu.system,
      };
    }
    case 'gc': {
      const gc = globalThis.gc;
      if (gc === undefined) return { ok: false, error: 'run node with --expose-gc' };
      gc();
      return { ok: true };
    }
    case 'broadcast': {
      const bytes = Number(rest[0]);
      const kind = rest[1] ?? 'binary';
      if (!Number.isInteger(bytes) || bytes < 0) return { error: `broadcast needs a size in bytes, not ${rest[0]}` };
      if (kind !== 'binary' && kind !== 'text') return { error: `broadcast type must be binary or text, not ${kind}` };
      // 'json': realistic, compressible chat JSON (permessage-deflate); else 'a's, valid UTF-8 either way.
      const data = rest[2] === 'json' ? Buffer.from(jsonPayload(bytes)) : Buffer.alloc(bytes, 0x61);
      const t0 = performance.now();
      const sent = server.broadcast(data, kind === 'binary');
      return { sent, ms: performance.now() - t0 };
    }
    default:
      return { error: `unknown command: ${command.trim()}` };
  }
}

/**
 * The whole life of a server process: start, print the ready line, answer stdin, and stop on
 * stdin end / `close` / SIGINT / SIGTERM (a second signal exits at once).
 *
 * Commands are read only when stdin is a pipe, socket or file (what an orchestrator gives); with
 * a terminal or /dev/null (a profiler's `stdio: 'ignore'`), only signals stop the server.
 *
 * After the server has closed, the process ends by itself when nothing is left to do, so that a
 * profiler's own exit hooks (clinic's `beforeExit` flush, the heap profiler writing its file on
 * SIGINT) finish; an unref'd timer exits anyway 3 s later if something still holds the loop.
 */
export async function runServerProcess(kind: string, start: (args: ServerArgs) => Promise<BenchServer>): Promise<void> {
  let server: BenchServer;
  try {
    const args = parseServerArgs();
    server = await start(args);
    line({
      ready: true,
      port: server.port,
      native: server.native,
      pid: process.pid,
      kind,
      mode: args.mode,
      ...server.info,
    });
  } catch (error) {
    process.stderr.write(`${kind} server: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  }
  let stopping = false;
  // eslint-disable-next-line prefer-const -- assigned once, below, but stop() may read it before that
  let input: ReturnType<typeof createInterface> | undefined;
  const stop = (why: string): void => {
    if (stopping) {
      if (why === 'SIGINT' || why === 'SIGTERM') process.exit(130);
      return;
    }
    stopping = true;
    input?.close();
    process.stdin.destroy();
    const hung = setTimeout(() => {
      process.stderr.write(`${kind} server: close took over 5 s, exiting\n`);
      process.exit(0);
    }, 5_000);
    Promise.resolve()
      .then(() => server.close())
      .catch((error: unknown) => process.stderr.write(`${kind} server: close failed: ${String(error)}\n`))
      .finally(() => {
        clearTimeout(hung);
        if (why === 'close') line({ closed: true });
        process.exitCode = 0;
        setTimeout(() => process.exit(0), 3_000).unref();
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  let stdin: Stats | undefined;
  try {
    stdin = fstatSync(0);
  } catch {
    stdin = undefined; // closed fd 0
  }
  if (stdin === undefined || !(stdin.isFIFO() || stdin.isSocket() || stdin.isFile())) return;
  input = createInterface({ input: process.stdin, terminal: false });
  input.on('line', (command) => {
    if (stopping || command.trim() === '') return;
    if (command.trim() === 'close') return stop('close');
    let reply: unknown;
    try {
      reply = answer(server, command);
    } catch (error) {
      reply = { error: (error as Error)?.message ?? String(error) };
    }
    line(reply);
  });
  input.on('close', () => stop('stdin end'));
}

/** True when this module file is the process's entry script (its CLI mode). */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}
