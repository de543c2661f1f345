/**
 * One load process of bench/million.ts: holds up to ~19,800 lightws client
 * connections (one process cannot have more than 20,000 open files). Forked
 * with IPC; every command is answered by a report of the same name.
 *
 *   ramp   → connects `count` connections, at most `inFlight` connects at a
 *            time, each from its own explicit (address, port): 127.A.B.x where
 *            A = 10 + index (this process's block) and B = the run's salt, so
 *            no two processes or runs ever share a source. Progress reports
 *            every 250 ms; 'ramped' at the end.
 *   verify → how many of its connections are still open (and how many the
 *            server closed), pings received since the ramp.
 *   echo   → sends a message on `sample` connections spread over the range
 *            and waits for every echo (byte-exact).
 *   quit   → closes every connection (Close handshake, bounded) and exits.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createClient, type Connection } from '../../src/index.js';
import { exitWithParent, toParent } from '../lib/ipc.js';

export type MillionCommand =
  | { type: 'ramp' }
  | { type: 'stopRamp' }
  | { type: 'verify' }
  | { type: 'echo'; sample: number; timeoutMs: number }
  | { type: 'quit' };

export type MillionReport =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; open: number; failed: number; inFlight: number }
  /** failed: connections given up on; errors: every failed attempt, by cause; retried: attempts repeated. */
  | { type: 'ramped'; open: number; failed: number; retried: number; ms: number; errors: Record<string, number> }
  | { type: 'verified'; open: number; tracked: number; closedByPeer: number; closeCodes: Record<string, number>; pings: number; unexpected: number; rss: number; heapUsed: number }
  | { type: 'echoed'; sent: number; ok: number; mismatched: number; timedOut: number; ms: number }
  | { type: 'quitted'; closed: number; ms: number };

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    count: { type: 'string' },
    index: { type: 'string' },
    salt: { type: 'string', default: '0' },
    'in-flight': { type: 'string', default: '64' },
  },
});
const PORT = Number(values.port);
const COUNT = Number(values.count);
const INDEX = Number(values.index);
const SALT = Number(values.salt);
const IN_FLIGHT = Number(values['in-flight']);
if (!(COUNT > 0 && COUNT <= 19_900)) throw new RangeError('--count must be 1..19900');
if (!(INDEX >= 0 && INDEX < 240)) throw new RangeError('--index must be 0..239');

const send = (report: MillionReport): void => void toParent(report);
/** 250 source addresses per process, ≤ 80 ports each per attempt (up to 10000..10719 with retries): far below the ephemeral range. */
function source(i: number): { localAddress: string; localPort: number } {
  return { localAddress: `127.${10 + INDEX}.${SALT}.${1 + (i % 250)}`, localPort: 10_000 + Math.floor(i / 250) };
}

const conns: Connection[] = [];
const closeCodes: Record<string, number> = {};
let closedByPeer = 0, pings = 0, unexpected = 0, quitting = false;
const echoWaiters = new Map<Connection, (data: Buffer) => void>();
const client = createClient({
  transport: 'handle', logLevel: 'silent',
  ping: () => void pings++,
  message: (conn, data) => {
    const waiter = echoWaiters.get(conn);
    if (waiter === undefined) { unexpected++; return; }
    echoWaiters.delete(conn);
    waiter(Buffer.from(data));
  },
  close: (_conn, code) => {
    if (quitting) return;
    closedByPeer++;
    closeCodes[String(code)] = (closeCodes[String(code)] ?? 0) + 1;
  },
});

let stopRamp = false, retried = 0;
/**
 * One connection; a failed attempt (say a worker at its open-files cap answered 503) is retried from
 * a fresh source port (the kernel hands it to whichever worker accepts first), up to RETRIES times.
 */
const RETRIES = 8;
async function connectWithRetries(i: number, errors: Record<string, number>): Promise<Connection | null> {
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    try {
      return await client.connect(`ws://127.0.0.1:${PORT}`, source(i + attempt * 20_000));
    } catch (error) {
      const e = error as Error & { code?: string };
      const key = e.code ?? e.message.slice(0, 80);
      errors[key] = (errors[key] ?? 0) + 1;
      if (stopRamp) return null;
      if (attempt < RETRIES) retried++;
    }
  }
  return null;
}
async function ramp(): Promise<void> {
  const t0 = performance.now();
  const errors: Record<string, number> = {};
  let next = 0, failed = 0, inFlight = 0;
  const timer = setInterval(() => send({ type: 'progress', open: conns.length, failed, inFlight }), 250);
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!stopRamp && inFlight < IN_FLIGHT && next < COUNT) {
        const i = next++;
        inFlight++;
        void connectWithRetries(i, errors).then((conn) => { if (conn === null) failed++; else conns.push(conn); }).finally(() => { inFlight--; pump(); });
      }
      if (inFlight === 0 && (next >= COUNT || stopRamp)) resolve();
    };
    pump();
  });
  clearInterval(timer);
  send({ type: 'progress', open: conns.length, failed, inFlight: 0 });
  send({ type: 'ramped', open: conns.length, failed, retried, ms: performance.now() - t0, errors });
}

async function echo(sample: number, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  const open = conns.filter((c) => c.isOpen);
  const picked = Array.from({ length: Math.min(sample, open.length) }, (_, k) => open[Math.floor((k * open.length) / Math.max(1, sample))]!);
  let ok = 0, mismatched = 0, timedOut = 0;
  await Promise.all(picked.map((conn) => new Promise<void>((resolve) => {
    const payload = randomBytes(16 + Math.floor(Math.random() * 100));
    const timer = setTimeout(() => { echoWaiters.delete(conn); timedOut++; resolve(); }, timeoutMs);
    echoWaiters.set(conn, (data) => { clearTimeout(timer); if (data.equals(payload)) ok++; else mismatched++; resolve(); });
    conn.send(payload, true);
  })));
  send({ type: 'echoed', sent: picked.length, ok, mismatched, timedOut, ms: performance.now() - t0 });
}

process.on('message', (cmd: MillionCommand) => {
  if (cmd.type === 'ramp') void ramp();
  else if (cmd.type === 'stopRamp') stopRamp = true;
  else if (cmd.type === 'verify') {
    const m = process.memoryUsage();
    send({ type: 'verified', open: conns.filter((c) => c.isOpen).length, tracked: conns.length, closedByPeer, closeCodes, pings, unexpected, rss: m.rss, heapUsed: m.heapUsed });
  } else if (cmd.type === 'echo') void echo(cmd.sample, cmd.timeoutMs);
  else if (cmd.type === 'quit') {
    quitting = true;
    stopRamp = true;
    const t0 = performance.now();
    const n = client.connections;
    void client.close({ timeoutMs: 3000 }).finally(() => {
      send({ type: 'quitted', closed: n, ms: performance.now() - t0 });
      setTimeout(() => process.exit(0), 50);
    });
  }
});
exitWithParent();
send({ type: 'ready', pid: process.pid });
