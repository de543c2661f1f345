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
 * skipping payload lengths (load/frame-counter.ts), never copying or decoding a payload.
 *
 * Times are `performance.timeOrigin + performance.now()`: monotonic within the process and on the
 * same wall-clock origin in every process. The orchestrator also measures each process's offset
 * by ping-pong (see `ping`) and corrects for it.
 */
import { parseArgs } from 'node:util';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { clock } from '../lib/time.js';
import { FrameCounter } from './frame-counter.js';
import { RawClientPool, type RawConnection } from './raw-client.js';

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
      extensions: { type: 'string' },
    },
  });
  const send = (r: BroadcastReport): Promise<void> => toParent(r);

  const round: RoundReport & { size: number } = {
    id: -1,
    size: 0,
    deliveries: 0,
    expected: 0,
    badSize: 0,
    firstAt: NaN,
    lastAt: NaN,
  };
  const delivered =
    (conn: RawConnection) =>
    (opcode: number, length: number, fin: boolean): void => {
      if (opcode === 0x8) {
        pool.close(conn);
        return;
      } // the server is closing: we are done with it
      if (!fin || opcode === 0x9 || opcode === 0xa) return; // pings/pongs, or a fragment: not a message
      const now = clock();
      if (round.deliveries++ === 0) round.firstAt = now;
      round.lastAt = now;
      // With permessage-deflate a message's length on the wire is its compressed size: not checked then.
      if (length !== round.size && values.extensions === undefined) round.badSize++;
      if (round.deliveries === round.expected) void send({ type: 'done', ...stripSize(round) });
    };
  // One FrameCounter and one bound callback per connection, made once at open: nothing is
  // allocated per delivery.
  const state = new WeakMap<
    RawConnection,
    { counter: FrameCounter; onFrame: (o: number, l: number, f: boolean) => void }
  >();
  const pool: RawClientPool = new RawClientPool({
    host: values.host,
    port: Number(values.port),
    sources: values.sources.split(','),
    perSource: Number(values['per-source']),
    maxInFlight: Number(values['in-flight']),
    ...(values.extensions === undefined ? {} : { extensions: values.extensions }),
    onData(conn, buf, start, end) {
      let s = state.get(conn);
      if (s === undefined) state.set(conn, (s = { counter: new FrameCounter(), onFrame: delivered(conn) }));
      s.counter.feed(buf, start, end, s.onFrame);
    },
  });

  process.on('message', (cmd: BroadcastCommand) => {
    switch (cmd.type) {
      case 'connect':
        void pool
          .connect(Number(values.connections))
          .then((r) =>
            send({ type: 'connected', open: pool.open.length, failed: r.failed, ms: r.elapsedMs, errors: r.errors }),
          );
        return;
      case 'ping':
        void send({ type: 'pong', at: clock() });
        return;
      case 'expect':
        Object.assign(round, {
          id: cmd.id,
          size: cmd.size,
          deliveries: 0,
          expected: pool.open.length,
          badSize: 0,
          firstAt: NaN,
          lastAt: NaN,
        });
        void send({ type: 'armed', id: cmd.id });
        return;
      case 'report':
        void send({ type: 'report', ...stripSize(round) });
        return;
      case 'quit':
        void pool
          .closeAll()
          .then(() => send({ type: 'quitted', closedByPeer: pool.closedByPeer }))
          .then(() => process.exit(0));
        return;
    }
  });
  exitWithParent();
  void send({ type: 'ready' });
}

function stripSize({ size: _, ...rest }: RoundReport & { size: number }): RoundReport {
  return rest;
}

main();
