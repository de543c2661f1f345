/**
 * Load process for `bench:echo`, built on lightws's own client role (masked
 * frames, one reactor per process). Forked by bench/echo.ts; talks over IPC
 * only (see control.ts for the commands).
 *
 *   node dist/bench/load/echo-clients.js --port P --connections N --source 127.a.b
 *        --mode rate --rate 10000   |   --mode flat --window 10
 *
 * - rate: a fixed offered rate for this process, spread round-robin over its
 *   connections. A 1 ms timer sends what is due since the start, so a late
 *   tick catches up rather than lowering the rate. A connection with
 *   --max-in-flight echoes outstanding skips its turn (counted as skipped:
 *   the server is not keeping up with the offered rate).
 * - flat: each connection keeps --window messages in flight (pipelining);
 *   every echo received sends the next message at once.
 *
 * Latency is from just before `send` to the echo's `message` call: echoes
 * come back in order on a connection, so a per-connection ring of send times
 * (FIFO) pairs them without touching the payload, which stays the classic
 * `hello world!!13212312!` (22 bytes, text), or --payload-bytes N of binary
 * (the large-message scenarios).
 */
import { parseArgs } from 'node:util';
import { type Connection, createClient, SendResult } from '../../src/index.js';
import { bucketOf, HIST_SIZE } from '../lib/histogram.js';
import { jsonPayload } from '../lib/json-payload.js';
import { die } from '../lib/status.js';
import { sleep } from '../lib/time.js';
import { exitWithParent } from '../lib/ipc.js';
import { countError, type LoadCommand, report } from './control.js';
import { SourcePorts } from './sources.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    connections: { type: 'string', default: '50' },
    source: { type: 'string', default: '127.9.0' },
    mode: { type: 'string', default: 'flat' },
    rate: { type: 'string', default: '10000' },
    window: { type: 'string', default: '1' },
    'max-in-flight': { type: 'string', default: '1024' },
    'connect-in-flight': { type: 'string', default: '128' },
    payload: { type: 'string', default: 'hello world!!13212312!' },
    // bench:deflate: a JSON message of this many bytes instead of --payload, and permessage-deflate
    // offered as a browser offers it (`permessage-deflate; client_max_window_bits`).
    'payload-json': { type: 'string' },
    // A binary message of this many bytes instead of --payload (bench:echo's large-message scenarios).
    'payload-bytes': { type: 'string' },
    deflate: { type: 'boolean', default: false },
  },
});
const URL_ = `ws://${values.host}:${Number(values.port)}/`;
const N = Number(values.connections);
const FLAT = values.mode === 'flat';
const RATE = Number(values.rate);
const WINDOW = Math.max(1, Number(values.window));
const BINARY = values['payload-bytes'] !== undefined;
const PAYLOAD = BINARY
  ? Buffer.alloc(Number(values['payload-bytes']), 0x5a)
  : Buffer.from(values['payload-json'] === undefined ? values.payload : jsonPayload(Number(values['payload-json'])));
// JSON messages differ from one another as a feed's do (same keys, other values), all of one length:
// a compressor with context takeover must not see the same message again and again.
const PAYLOADS =
  values['payload-json'] === undefined
    ? [PAYLOAD]
    : Array.from({ length: 1024 }, (_, i) => Buffer.from(jsonPayload(PAYLOAD.length, i + 1)));
let nextPayload = 0;
// Ring size: a power of two holding every message a connection may have in flight.
const RING = 2 ** Math.ceil(Math.log2(FLAT ? WINDOW : Math.max(1, Number(values['max-in-flight']))));
const MASK = RING - 1;

interface Ring {
  times: Float64Array;
  head: number;
  count: number;
}

const hist = new Uint32Array(HIST_SIZE);
let sending = false;
let stopping = false;
/** Totals over the process's life. */
const total = { sent: 0, received: 0, skipped: 0, dropped: 0, unexpected: 0, badLength: 0, closedEarly: 0, retries: 0 };
/** Counters of the measured window (reset by `mark`). */
let win = { sent: 0, received: 0, skipped: 0 };
let markAt = 0;
let markCpu = process.cpuUsage();
/** Bytes read from the server since `mark`: the echoes as they crossed the wire (compressed or not). */
let markBytes = 0;

const client = createClient<Ring>({
  transport: 'handle',
  logLevel: 'silent',
  // A browser's offer: context takeover, any window (deflateWindowBits 15 asks for no bound).
  ...(values.deflate ? { deflate: 'window' as const, deflateWindowBits: 15 } : {}),
  message(conn, data) {
    const now = performance.now();
    const ring = conn.data;
    if (ring.count === 0) {
      total.unexpected++;
      return;
    }
    const sentAt = ring.times[ring.head]!;
    ring.head = (ring.head + 1) & MASK;
    ring.count--;
    if (data.length !== PAYLOAD.length) total.badLength++;
    total.received++;
    win.received++;
    hist[bucketOf((now - sentAt) * 1000)]!++;
    if (FLAT && sending) sendOn(conn);
  },
  close() {
    if (!stopping) total.closedEarly++;
  },
});
const conns: Connection<Ring>[] = [];

/** One message on `conn`, if its ring has room; false when it could not be sent. */
function sendOn(conn: Connection<Ring>): boolean {
  const ring = conn.data;
  if (ring.count >= RING) {
    total.skipped++;
    win.skipped++;
    return false;
  }
  const t = performance.now();
  if (conn.send(PAYLOADS[nextPayload++ % PAYLOADS.length]!, BINARY) === SendResult.Dropped) {
    total.dropped++;
    return false;
  }
  ring.times[(ring.head + ring.count) & MASK] = t;
  ring.count++;
  total.sent++;
  win.sent++;
  return true;
}

async function connectAll(): Promise<void> {
  const sources = new SourcePorts(values.source);
  const errors: Record<string, number> = {};
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < N) {
      next++;
      for (let attempt = 1; ; attempt++) {
        try {
          conns.push(
            await client.connect(URL_, {
              ...sources.next(),
              data: { times: new Float64Array(RING), head: 0, count: 0 },
            }),
          );
          break;
        } catch (error) {
          const code = (error as { code?: string }).code;
          // A source port someone else holds: take the next one.
          if ((code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') && attempt < 32) {
            total.retries++;
            continue;
          }
          countError(errors, error);
          failed++;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(N, Number(values['connect-in-flight'])) }, worker));
  await report({ type: 'connected', open: conns.length, failed, ms: performance.now() - t0, errors });
}

let ticker: NodeJS.Timeout | undefined;
function start(): void {
  sending = true;
  if (FLAT) {
    for (const conn of conns) for (let i = 0; i < WINDOW; i++) sendOn(conn);
  } else if (conns.length > 0) {
    // Sends what is due since t0 on every tick: the rate holds even when ticks come late.
    const t0 = performance.now();
    let scheduled = 0;
    let cursor = 0;
    ticker = setInterval(() => {
      const due = Math.floor((RATE * (performance.now() - t0)) / 1000) - scheduled;
      for (let i = 0; i < due; i++) {
        sendOn(conns[cursor]!);
        if (++cursor === conns.length) cursor = 0;
      }
      scheduled += Math.max(0, due);
    }, 1);
  }
  void report({ type: 'started' });
}

function mark(): void {
  hist.fill(0);
  win = { sent: 0, received: 0, skipped: 0 };
  markBytes = client.stats().bytesIn;
  markCpu = process.cpuUsage();
  markAt = performance.now();
  void report({ type: 'marked' });
}

function windowReport(): void {
  const cpu = process.cpuUsage(markCpu);
  let outstanding = 0;
  for (const conn of conns) outstanding += conn.data.count;
  void report({
    type: 'report',
    ms: performance.now() - markAt,
    count: win.received,
    hist: Array.from(hist),
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    extra: {
      sent: win.sent,
      skipped: win.skipped,
      outstanding,
      open: client.connections,
      bytesIn: client.stats().bytesIn - markBytes,
      deflated: client.stats().deflate.connections,
    },
  });
}

async function stop(): Promise<void> {
  sending = false;
  clearInterval(ticker);
  // Let the echoes in flight come back (bounded), then close politely.
  const deadline = performance.now() + 3_000;
  const outstanding = (): number => conns.reduce((s, c) => s + (c.isOpen ? c.data.count : 0), 0);
  while (outstanding() > 0 && performance.now() < deadline) await sleep(20);
  const left = outstanding();
  stopping = true;
  await client.close({ timeoutMs: 2_000 });
  await report({ type: 'stopped', extra: { ...total, outstandingAtStop: left }, errors: {} });
  process.exit(0);
}

process.on('message', (cmd: LoadCommand) => {
  const run = async (): Promise<void> => {
    if (cmd.type === 'connect') await connectAll();
    else if (cmd.type === 'start') start();
    else if (cmd.type === 'mark') mark();
    else if (cmd.type === 'report') windowReport();
    else if (cmd.type === 'stop') await stop();
  };
  run().catch((error: unknown) => die('echo-clients', error));
});
exitWithParent();
void report({ type: 'ready' });
