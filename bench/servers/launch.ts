/**
 * The orchestrator's side of servers/protocol.ts: the benchmark servers there are, and a child
 * process speaking the protocol (used by bench:echo, bench:handshake and bench:broadcast; the
 * profile:* scripts start lightws.js under a profiler and read only its ready line).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUN_CACHE, findBun } from '../lib/bun.js';
import { JsonLinesChild } from '../lib/children.js';
import { processCpuUs } from '../lib/proc.js';
import type { Mode } from './protocol.js';

/** The library servers, by the kind names the benchmarks take in --kinds. */
export const SERVERS: Record<string, { script: string; argv: string[]; label: string; runtime?: 'bun' }> = {
  handle: { script: 'lightws.js', argv: ['--transport', 'handle'], label: 'lightws handle' },
  socket: { script: 'lightws.js', argv: ['--transport', 'socket'], label: 'lightws socket' },
  'handle-dc': {
    script: 'lightws.js',
    argv: ['--transport', 'handle', '--diagnostics'],
    label: 'lightws handle + diagnostics subscribers',
  },
  // What `lightws echo` runs: the handle transport with limitYoungGeneration() (1 MiB semi-spaces).
  'handle-young1': {
    script: 'lightws.js',
    argv: ['--transport', 'handle', '--limit-young'],
    label: 'lightws handle, young gen 1 MiB',
  },
  ws: { script: 'ws.js', argv: [], label: 'ws' },
  uws: { script: 'uws.js', argv: [], label: 'uWS.js' },
  // Run by Bun (lib/bun.ts finds it): Bun.serve, which embeds uWebSockets.
  bun: { script: 'bun.js', argv: [], label: 'Bun', runtime: 'bun' },
  // permessage-deflate negotiated (bench:deflate): each library's compressing configuration.
  'handle-shared': {
    script: 'lightws.js',
    argv: ['--transport', 'handle', '--deflate', 'shared'],
    label: 'lightws shared',
  },
  'handle-window': {
    script: 'lightws.js',
    argv: ['--transport', 'handle', '--deflate', 'window'],
    label: 'lightws window',
  },
  'ws-deflate': { script: 'ws.js', argv: ['--deflate', 'on'], label: 'ws deflate' },
  'uws-shared': { script: 'uws.js', argv: ['--deflate', 'on'], label: 'uWS.js shared' },
  'bun-deflate': { script: 'bun.js', argv: ['--deflate', 'on'], label: 'Bun shared', runtime: 'bun' },
};

/** The kinds named in a --kinds list, checked. */
export function parseKinds(list: string): string[] {
  const kinds = list.split(',').filter((k) => k !== '');
  for (const k of kinds)
    if (SERVERS[k] === undefined) throw new RangeError(`unknown kind ${k}: ${Object.keys(SERVERS).join(', ')}`);
  if (kinds.some((k) => SERVERS[k]!.runtime === 'bun') && findBun() === undefined) {
    process.stderr.write(`Bun SKIPPED: not found (--bun, $BUN, or ${BUN_CACHE})\n`);
    return kinds.filter((k) => SERVERS[k]!.runtime !== 'bun');
  }
  return kinds;
}

const here = dirname(fileURLToPath(import.meta.url));

export interface ServerReady {
  ready: true;
  port: number;
  native: boolean;
  pid: number;
  [key: string]: unknown;
}
export interface ServerStats {
  connections: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  cpuUser: number;
  cpuSystem: number;
}

/** One benchmark server process: `node [nodeArgs] servers/<kind>.js --port 0 --mode <mode>`. */
export class ProtocolServer extends JsonLinesChild {
  constructor(
    readonly kind: string,
    mode: Mode,
    nodeArgs: readonly string[] = [],
  ) {
    const server = SERVERS[kind];
    if (server === undefined) throw new RangeError(`unknown server kind ${kind}`);
    super(
      `${server.label} server`,
      join(here, server.script),
      ['--port', '0', '--mode', mode, ...server.argv],
      server.runtime === 'bun' ? [] : nodeArgs,
      server.runtime === 'bun' ? findBun()! : process.execPath,
    );
  }

  /** The first line: port, whether native code loaded, and the server's own details. */
  async ready(timeoutMs = 15_000): Promise<ServerReady> {
    const line = await this.next(timeoutMs);
    if (line['ready'] !== true) throw new Error(`${this.name}: expected the ready line, got ${JSON.stringify(line)}`);
    return line as ServerReady;
  }

  /** One command line and its answer (the protocol answers each command in order, with one line). */
  async command<T>(line: string, timeoutMs = 30_000): Promise<T> {
    this.write(line);
    const answer = await this.next(timeoutMs);
    if (typeof answer['error'] === 'string') throw new Error(`${this.name}: ${line}: ${answer['error']}`);
    return answer as T;
  }

  stats(timeoutMs?: number): Promise<ServerStats> {
    return this.command<ServerStats>('stats', timeoutMs);
  }

  /**
   * The process's user+system CPU in µs, read from /proc by us rather than asked for: the answer
   * is the CPU at this instant, not whenever a busy server gets round to a `stats` line (seconds
   * late on an overloaded machine, which skewed its window against the load's). Falls back to
   * `stats` off Linux.
   */
  async cpu(): Promise<{ user: number; system: number }> {
    const cpu = processCpuUs(this.pid);
    if (cpu !== null) return cpu;
    const s = await this.stats();
    return { user: s.cpuUser, system: s.cpuSystem };
  }

  /** `close`, then a bounded wait for the exit (SIGKILL after timeoutMs). */
  async close(timeoutMs = 8_000): Promise<void> {
    this.endInput('close');
    await this.stop(timeoutMs);
  }
}

/** Is uWS's native binary there? If not, uWS is left out, loudly: the package's JS fallback is not uWS. */
export async function probeUws(): Promise<{ native: boolean; note: string }> {
  const server = new ProtocolServer('uws', 'echo');
  try {
    const ready = await server.ready();
    return ready.native
      ? {
          native: true,
          note: `uWS.js native binary loaded (${String(ready['binary']).replace(/.*node_modules[\\/]/, '')})`,
        }
      : {
          native: false,
          note: `uWS.js SKIPPED: its native binary did not load (${String(ready['nativeError'])}); the package's JS fallback is not uWS`,
        };
  } catch (error) {
    return { native: false, note: `uWS.js SKIPPED: the server failed to start (${(error as Error).message})` };
  } finally {
    await server.close();
  }
}
