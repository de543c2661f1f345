/**
 * Load process for `bench:broadcast`: holds WebSocket connections to one server and counts the
 * broadcast messages they receive, reporting when the last one of a round has arrived. Run by
 * bench/broadcast.ts through fork() (IPC only):
 *
 *   node dist/bench/load/broadcast-clients.js --port P --connections C --sources 127.a.b.1[,..]
 *        [--host 127.0.0.1] [--per-source 20000] [--in-flight 256]
 *
 * The connections are raw libuv handles (load/raw-client.ts), not a WebSocket library: this
 * process shares 2 cores with the server it measures, so it does the least work that proves a
 * delivery. Server frames are unmasked, so a delivery is found by reading frame headers and
 * skipping payload lengths (FrameCounter below), never copying or decoding a payload.
 *
 * Times are `performance.timeOrigin + performance.now()`: monotonic within the process and on the
 * same wall-clock origin in every process. The orchestrator also measures each process's offset
 * by ping-pong (see `ping`) and corrects for it.
 */
import { parseArgs } from 'node:util';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { clock } from '../lib/time.js';
import { isMain } from '../servers/protocol.js';
import { RawClientPool, type RawConnection } from './raw-client.js';

/**
 * Finds the frames in a server→client byte stream, one per connection, across reads: a header
 * split over two reads (rare: it happens only after a frame that ended mid-read) is gathered in a
 * small buffer allocated for that connection the first time it happens.
 */
export class FrameCounter {
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private fin = false;
  private opcode = 0;
  private length = 0;
  private partial: Buffer | null = null;
  private have = 0;

  /** Feeds buf[start, end); calls onFrame(opcode, payloadLength, fin) for every frame completed. */
  feed(buf: Buffer, start: number, end: number, onFrame: (opcode: number, length: number, fin: boolean) => void): void {
    let i = start;
    while (i < end) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, end - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) onFrame(this.opcode, this.length, this.fin);
        continue;
      }
      // A header starts here: 2 bytes, then 0, 2 or 8 bytes of length (servers send no mask).
      if (this.have === 0 && end - i >= 2) {
        const size = headerSize(buf[i + 1]!);
        if (end - i >= size) {
          this.begin(buf, i);
          i += size;
          if (this.remaining === 0) onFrame(this.opcode, this.length, this.fin);
          continue;
        }
      }
      const partial = (this.partial ??= Buffer.alloc(10));
      partial[this.have++] = buf[i++]!;
      if (this.have >= 2 && this.have === headerSize(partial[1]!)) {
        this.have = 0;
        this.begin(partial, 0);
        if (this.remaining === 0) onFrame(this.opcode, this.length, this.fin);
      }
    }
  }

  private begin(h: Buffer, at: number): void {
    this.fin = (h[at]! & 0x80) !== 0;
    this.opcode = h[at]! & 0x0f;
    const len7 = h[at + 1]! & 0x7f;
    this.length = len7 === 126 ? h.readUInt16BE(at + 2) : len7 === 127 ? Number(h.readBigUInt64BE(at + 2)) : len7;
    this.remaining = this.length;
  }
}

function headerSize(byte1: number): number {
  const len7 = byte1 & 0x7f;
  return len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
}

/** Orchestrator → load process. */
export type BroadcastCommand =
  | { type: 'connect' }
  | { type: 'ping' }
  /** A broadcast of `size` bytes is coming: one delivery per open connection. */
  | { type: 'expect'; id: number; size: number }
  /** What has arrived of round `id` so far (when `done` is late). */
  | { type: 'report'; id: number }
  | { type: 'quit' };

export interface RoundReport {
  id: number;
  deliveries: number;
  expected: number;
  /** Messages whose length was not the broadcast size (must stay 0). */
  badSize: number;
  /** First and last delivery, ms on the shared clock (NaN when none). */
  firstAt: number;
  lastAt: number;
}

/** Load process → orchestrator. */
export type BroadcastReport =
  | { type: 'ready' }
  | { type: 'connected'; open: number; failed: number; ms: number; errors: Record<string, number> }
  | { type: 'pong'; at: number }
  | { type: 'armed'; id: number }
  | ({ type: 'done' } & RoundReport)
  | ({ type: 'report' } & RoundReport)
  | { type: 'quitted'; closedByPeer: number };

function main(): void {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      connections: { type: 'string', default: '1000' },
      sources: { type: 'string', default: '127.0.0.2' },
      'per-source': { type: 'string', default: '20000' },
      'in-flight': { type: 'string', default: '256' },
    },
  });
  const send = (r: BroadcastReport): Promise<void> => toParent(r);

  const round: RoundReport & { size: number } = { id: -1, size: 0, deliveries: 0, expected: 0, badSize: 0, firstAt: NaN, lastAt: NaN };
  const delivered = (conn: RawConnection) => (opcode: number, length: number, fin: boolean): void => {
    if (opcode === 0x8) { pool.close(conn); return; } // the server is closing: we are done with it
    if (!fin || opcode === 0x9 || opcode === 0xa) return; // pings/pongs, or a fragment: not a message
    const now = clock();
    if (round.deliveries++ === 0) round.firstAt = now;
    round.lastAt = now;
    if (length !== round.size) round.badSize++;
    if (round.deliveries === round.expected) void send({ type: 'done', ...stripSize(round) });
  };
  // One FrameCounter and one bound callback per connection, made once at open: nothing is
  // allocated per delivery.
  const state = new WeakMap<RawConnection, { counter: FrameCounter; onFrame: (o: number, l: number, f: boolean) => void }>();
  const pool: RawClientPool = new RawClientPool({
    host: values.host!,
    port: Number(values.port),
    sources: values.sources!.split(','),
    perSource: Number(values['per-source']),
    maxInFlight: Number(values['in-flight']),
    onData(conn, buf, start, end) {
      let s = state.get(conn);
      if (s === undefined) state.set(conn, (s = { counter: new FrameCounter(), onFrame: delivered(conn) }));
      s.counter.feed(buf, start, end, s.onFrame);
    },
  });

  process.on('message', (cmd: BroadcastCommand) => {
    switch (cmd.type) {
      case 'connect':
        void pool.connect(Number(values.connections)).then((r) =>
          send({ type: 'connected', open: pool.open.length, failed: r.failed, ms: r.elapsedMs, errors: r.errors }));
        return;
      case 'ping':
        void send({ type: 'pong', at: clock() });
        return;
      case 'expect':
        Object.assign(round, { id: cmd.id, size: cmd.size, deliveries: 0, expected: pool.open.length, badSize: 0, firstAt: NaN, lastAt: NaN });
        void send({ type: 'armed', id: cmd.id });
        return;
      case 'report':
        void send({ type: 'report', ...stripSize(round) });
        return;
      case 'quit':
        void pool.closeAll().then(() => send({ type: 'quitted', closedByPeer: pool.closedByPeer })).then(() => process.exit(0));
        return;
    }
  });
  exitWithParent();
  void send({ type: 'ready' });
}

function stripSize({ size: _, ...rest }: RoundReport & { size: number }): RoundReport {
  return rest;
}

if (isMain(import.meta.url)) main();
