/**
 * One load process of bench/million.ts: holds up to ~19,800 WebSocket client
 * connections (one process cannot have more than 20,000 open files) on raw
 * libuv handles (load/raw-client.ts) with one shared key, so that a
 * connection costs the load what the kernel makes it cost and little more:
 * the 1M ramp is bound by the 2 cores, and every µs spent here is one the
 * server measured does not get. Forked with IPC; every command is answered
 * by a report of the same name.
 *
 *   ramp   → connects `count` connections, at most `inFlight` connects at a
 *            time, each from its own explicit (address, port): 127.A.B.x where
 *            A = 10 + index (this process's block) and B = the run's salt, so
 *            no two processes or runs ever share a source. Progress reports
 *            every 250 ms; 'ramped' at the end.
 *   verify → how many of its connections are still open (and how many the
 *            server closed), pings received (each answered by a pong).
 *   echo   → sends a message on `sample` connections spread over the range
 *            and waits for every echo (byte-exact).
 *   stream → (bench:reload) `sample` connections spread over the range each keep one
 *            sequence-numbered message in flight, the next sent `intervalMs` after the echo of
 *            the last; 'streamStop' ends it and reports 'streamed': echoes, wrong ones (a number
 *            other than the one in flight, or an echo when none was: lost, duplicated or
 *            reordered), those still unanswered, and each one's longest send → echo wait.
 *            Beside it, the publish stream: `subscribers` other connections subscribe to the
 *            server's topic ('S'), and with `publishEveryMs` > 0 one connection publishes
 *            'P1', 'P2', ... to it; each subscriber counts the numbers it missed (a gap), and
 *            those that came again or out of order; the report has each one's last.
 *   quit   → waits up to `waitMs` for the server to have closed every
 *            connection, closes what is left, reports the Close frames
 *            received by code, and exits.
 *
 * A server Close is answered with a Close carrying the same code (the closing
 * handshake, RFC 6455 §5.5.1); the server then ends the TCP connection.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { die } from '../lib/status.js';
import { RawClientPool, type RawConnection } from './raw-client.js';

export type MillionCommand =
  | { type: 'ramp'; inFlight: number }
  | { type: 'stopRamp' }
  | { type: 'verify' }
  | { type: 'echo'; sample: number; timeoutMs: number }
  | { type: 'stream'; sample: number; intervalMs: number; subscribers: number; publishEveryMs: number }
  | { type: 'streamStop' }
  | { type: 'quit'; waitMs: number };

export type MillionReport =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; open: number; failed: number; inFlight: number }
  /** failed: connections given up on; errors: every failed attempt, by cause; retried: attempts repeated. */
  | { type: 'ramped'; open: number; failed: number; retried: number; ms: number; errors: Record<string, number> }
  | {
      type: 'verified';
      open: number;
      closedByPeer: number;
      closeCodes: Record<string, number>;
      pings: number;
      unexpected: number;
      rss: number;
      heapUsed: number;
    }
  | { type: 'echoed'; sent: number; ok: number; mismatched: number; timedOut: number; ms: number }
  /** unanswered: streaming connections whose last message never came back (lost, or its connection closed). */
  | {
      type: 'streamed';
      echoers: number;
      echoes: number;
      wrong: number;
      unanswered: number;
      longestWaitsMs: number[];
      /** The publish stream: how many this process published, its subscribers, what they got, missed, got again or out of order, and each one's last number. */
      published: number;
      subscribers: number;
      received: number;
      gaps: number;
      outOfOrder: number;
      lastSeen: number[];
      /** Subscribers that missed at least one in between. */
      missing: number;
    }
  /** closeCodes: Close frames received, by code; closedByPeer: connections the server ended; closedHere: what was left to us. */
  | { type: 'quitted'; closeCodes: Record<string, number>; closedByPeer: number; closedHere: number; ms: number };

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    count: { type: 'string' },
    index: { type: 'string' },
    salt: { type: 'string', default: '0' },
  },
});
const PORT = Number(values.port);
const COUNT = Number(values.count);
const INDEX = Number(values.index);
const SALT = Number(values.salt);
if (!(COUNT > 0 && COUNT <= 19_900)) throw new RangeError('--count must be 1..19900');
if (!(INDEX >= 0 && INDEX < 240)) throw new RangeError('--index must be 0..239');

const send = (report: MillionReport): void => void toParent(report);

/** 250 source addresses per process, ≤ 80 ports each (10000..10079, and on for retries): far below the ephemeral range. */
const ADDRESSES = 250;
const PER_ADDRESS = Math.ceil((COUNT * 1.05) / ADDRESSES);
const sources = Array.from({ length: ADDRESSES }, (_, i) => `127.${10 + INDEX}.${SALT}.${1 + i}`);

// ---- the frames a server sends an idle connection -------------------------------------------

/** The RFC 6455 §5.7 example key: client frames must be masked (§5.3), the key's value is ours to pick. */
const MASK = [0x37, 0xfa, 0x21, 0x3d] as const;
function maskedFrame(opcode: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length; // ≤ 125 here: control frames and the echo sample
  for (let k = 0; k < 4; k++) frame[2 + k] = MASK[k]!;
  for (let k = 0; k < payload.length; k++) frame[6 + k] = payload[k]! ^ MASK[k & 3]!;
  return frame;
}
const EMPTY_PONG = maskedFrame(0xa, new Uint8Array(0));

const closeCodes: Record<string, number> = {};
let pings = 0,
  unexpected = 0;
const echoWaiters = new Map<RawConnection, (payload: Buffer) => void>();
/** A frame split over reads (rare on loopback): its first part, per connection. */
const partial = new Map<RawConnection, Buffer>();

function frame(conn: RawConnection, opcode: number, buf: Buffer, start: number, end: number): void {
  if (opcode === 0x9) {
    pings++;
    pool.write(conn, end === start ? EMPTY_PONG : maskedFrame(0xa, buf.subarray(start, end)));
  } else if (opcode === 0x8) {
    const code = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
    closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    // Echo the code (none for 1005, which is never sent: §7.4.1); the server then ends TCP.
    pool.write(conn, maskedFrame(0x8, code === 1005 ? new Uint8Array(0) : buf.subarray(start, start + 2)));
  } else if (opcode === 0x1 && buf[start] === 0x50 /* 'P' */ && subscribers.has(conn)) {
    heard(subscribers.get(conn)!, Number(buf.toString('latin1', start + 1, end)));
  } else if (opcode === 0x1 && streamers.has(conn)) {
    streamed(streamers.get(conn)!, Number(buf.toString('latin1', start, end)));
  } else if (opcode === 0x1 || opcode === 0x2) {
    const waiter = echoWaiters.get(conn);
    if (waiter === undefined) unexpected++;
    else {
      echoWaiters.delete(conn);
      waiter(Buffer.from(buf.subarray(start, end)));
    }
  } else {
    unexpected++;
  }
}

function onData(conn: RawConnection, slab: Buffer, start: number, end: number): void {
  let buf = slab,
    i = start,
    e = end;
  const before = partial.get(conn);
  if (before !== undefined) {
    partial.delete(conn);
    buf = Buffer.concat([before, slab.subarray(start, end)]);
    i = 0;
    e = buf.length;
  }
  while (e - i >= 2) {
    let length = buf[i + 1]! & 0x7f,
      header = 2;
    if (length === 126) {
      if (e - i < 4) break;
      length = buf.readUInt16BE(i + 2);
      header = 4;
    } else if (length === 127) {
      unexpected++; // nothing this large is ever sent to these connections
      pool.close(conn);
      return;
    }
    if (e - i < header + length) break;
    frame(conn, buf[i]! & 0x0f, buf, i + header, i + header + length);
    i += header + length;
  }
  if (i < e) partial.set(conn, Buffer.from(buf.subarray(i, e)));
}

const pool = new RawClientPool({
  host: '127.0.0.1',
  port: PORT,
  sources,
  perSource: PER_ADDRESS,
  firstPort: 10_000,
  keys: 'shared',
  maxRetries: 8,
  handshakeTimeoutMs: 60_000,
  onData,
  onClose: (conn) => {
    partial.delete(conn);
    echoWaiters.delete(conn);
    subscribers.delete(conn);
  },
});

// ---- commands -------------------------------------------------------------------------------

let stopped = false;
async function ramp(inFlight: number): Promise<void> {
  const t0 = performance.now();
  const progress = setInterval(
    () => send({ type: 'progress', open: pool.open.length, failed: pool.failed, inFlight: pool.inFlight }),
    250,
  );
  const result = stopped ? { failed: 0, retried: 0, errors: {} } : await pool.connect(COUNT, inFlight);
  clearInterval(progress);
  send({ type: 'progress', open: pool.open.length, failed: pool.failed, inFlight: 0 });
  send({
    type: 'ramped',
    open: pool.open.length,
    failed: result.failed,
    retried: result.retried,
    ms: performance.now() - t0,
    errors: result.errors,
  });
}

/** `sample` of the open connections, spread evenly over them (`offset`: a fraction of the step further). */
function pick(sample: number, offset = 0): RawConnection[] {
  const open = pool.open;
  return Array.from(
    { length: Math.min(sample, open.length) },
    (_, k) => open[Math.floor(((k + offset) * open.length) / Math.max(1, sample))]!,
  );
}

// ---- the sequence-numbered stream (bench:reload) ----------------------------------------------

interface Streamer {
  conn: RawConnection;
  seq: number;
  sentAt: number;
  waiting: boolean;
  longest: number;
}
const streamers = new Map<RawConnection, Streamer>();
let streaming = false,
  streamInterval = 50,
  streamEchoes = 0,
  streamWrong = 0;

function streamSend(s: Streamer): void {
  if (!streaming || s.conn.index < 0) return;
  s.seq++;
  s.waiting = true;
  s.sentAt = performance.now();
  pool.write(s.conn, maskedFrame(0x1, Buffer.from(String(s.seq), 'latin1')));
}

function streamed(s: Streamer, seq: number): void {
  streamEchoes++;
  if (!s.waiting || seq !== s.seq) {
    streamWrong++;
    return;
  }
  s.waiting = false;
  s.longest = Math.max(s.longest, performance.now() - s.sentAt);
  setTimeout(() => streamSend(s), streamInterval);
}

/** A subscriber of the publish stream: the last number it got (0: none yet). */
interface Subscriber {
  last: number;
  missed: number;
}
const subscribers = new Map<RawConnection, Subscriber>();
let published = 0,
  received = 0,
  gaps = 0,
  outOfOrder = 0;
let publisher: NodeJS.Timeout | undefined;

function heard(s: Subscriber, seq: number): void {
  received++;
  if (s.last !== 0 && seq <= s.last) {
    outOfOrder++; // again, or after a later one
    return;
  }
  if (s.last !== 0) {
    gaps += seq - s.last - 1;
    s.missed += seq - s.last - 1;
  }
  s.last = seq;
}

function stream(sample: number, intervalMs: number, subscribing: number, publishEveryMs: number): void {
  streaming = true;
  streamInterval = intervalMs;
  for (const conn of pick(sample)) {
    const s: Streamer = { conn, seq: 0, sentAt: 0, waiting: false, longest: 0 };
    streamers.set(conn, s);
    streamSend(s);
  }
  // Half a step from the echoing ones: other connections, where there are enough.
  for (const conn of pick(subscribing, 0.5)) {
    if (streamers.has(conn)) continue;
    subscribers.set(conn, { last: 0, missed: 0 });
    pool.write(conn, maskedFrame(0x1, Buffer.from('S')));
  }
  const from = pool.open[0];
  if (publishEveryMs > 0 && from !== undefined)
    publisher = setInterval(() => {
      if (from.index >= 0) pool.write(from, maskedFrame(0x1, Buffer.from(`P${++published}`, 'latin1')));
    }, publishEveryMs);
}

async function streamStop(): Promise<void> {
  streaming = false;
  clearInterval(publisher);
  // The last echoes and publishes in flight come: until nothing has come for a second (a loaded machine
  // can hold them longer than that; a second after the last is not a loss), at most 15 s.
  const until = performance.now() + 15_000;
  for (let seen = -1; seen !== received + streamEchoes && performance.now() < until;) {
    seen = received + streamEchoes;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const all = [...streamers.values()];
  send({
    type: 'streamed',
    echoers: all.length,
    echoes: streamEchoes,
    wrong: streamWrong,
    unanswered: all.filter((s) => s.waiting).length,
    longestWaitsMs: all.map((s) => s.longest),
    published,
    subscribers: subscribers.size,
    received,
    gaps,
    outOfOrder,
    lastSeen: [...subscribers.values()].map((s) => s.last),
    missing: [...subscribers.values()].filter((s) => s.missed > 0).length,
  });
}

async function echo(sample: number, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  const picked = pick(sample);
  let ok = 0,
    mismatched = 0,
    timedOut = 0;
  await Promise.all(
    picked.map(
      (conn) =>
        new Promise<void>((resolve) => {
          const payload = randomBytes(16 + Math.floor(Math.random() * 100));
          const timer = setTimeout(() => {
            echoWaiters.delete(conn);
            timedOut++;
            resolve();
          }, timeoutMs);
          echoWaiters.set(conn, (data) => {
            clearTimeout(timer);
            if (data.equals(payload)) ok++;
            else mismatched++;
            resolve();
          });
          pool.write(conn, maskedFrame(0x2, payload));
        }),
    ),
  );
  send({ type: 'echoed', sent: picked.length, ok, mismatched, timedOut, ms: performance.now() - t0 });
}

async function quit(waitMs: number): Promise<void> {
  const t0 = performance.now();
  // The server's last EOFs may still be on their way when it reports itself closed.
  while (pool.open.length > 0 && performance.now() - t0 < waitMs)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const closedHere = pool.open.length;
  await pool.closeAll();
  await toParent({
    type: 'quitted',
    closeCodes,
    closedByPeer: pool.closedByPeer,
    closedHere,
    ms: performance.now() - t0,
  } satisfies MillionReport);
  process.exit(0);
}

process.on('message', (cmd: MillionCommand) => {
  const run = (): Promise<void> | void => {
    switch (cmd.type) {
      case 'ramp':
        return ramp(cmd.inFlight);
      case 'stopRamp':
        stopped = true;
        pool.stopConnecting();
        return;
      case 'verify': {
        const m = process.memoryUsage();
        send({
          type: 'verified',
          open: pool.open.length,
          closedByPeer: pool.closedByPeer,
          closeCodes,
          pings,
          unexpected,
          rss: m.rss,
          heapUsed: m.heapUsed,
        });
        return;
      }
      case 'echo':
        return echo(cmd.sample, cmd.timeoutMs);
      case 'stream':
        return stream(cmd.sample, cmd.intervalMs, cmd.subscribers, cmd.publishEveryMs);
      case 'streamStop':
        return streamStop();
      case 'quit':
        return quit(cmd.waitMs);
    }
  };
  Promise.resolve(run()).catch((error: unknown) => die('million-clients', error));
});
exitWithParent();
send({ type: 'ready', pid: process.pid });
