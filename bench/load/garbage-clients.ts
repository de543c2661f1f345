/**
 * Load process for `bench:garbage`: a few connections echo a fixed number of binary messages of
 * one size through the server, pipelined. Run by bench/garbage.ts through fork() (IPC only):
 *
 *   node dist/bench/load/garbage-clients.js --port P [--host 127.0.0.1] [--connections 8]
 *        [--sources 127.0.0.2]
 *
 * What matters is the server's garbage, so this side allocates next to nothing per message: raw
 * libuv handles (load/raw-client.ts); one masked frame built per size and repeated `pipeline`
 * times in one buffer, so k more messages are one write of the first k frames of it (the bytes
 * never change, so every connection can write them at once); echoes counted by frame header
 * (FrameCounter), payloads never copied. The mask key is random, not zero: the server must really
 * unmask.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { FrameCounter } from './frame-counter.js';
import { RawClientPool, type RawConnection } from './raw-client.js';

/** Orchestrator → load process. */
export type GarbageCommand =
  | { type: 'connect' }
  /** Echo `messages` messages of `size` bytes, at most `pipeline` in flight per connection. */
  | { type: 'run'; size: number; messages: number; pipeline: number }
  | { type: 'quit' };

/** Load process → orchestrator. */
export type GarbageReport =
  | { type: 'ready' }
  | { type: 'connected'; open: number; failed: number; errors: Record<string, number> }
  | {
      type: 'ran';
      ms: number;
      sent: number;
      received: number;
      badSize: number;
      writeErrors: number;
      closedByPeer: number;
    }
  | { type: 'quitted' };

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    connections: { type: 'string', default: '8' },
    sources: { type: 'string', default: '127.0.0.2' },
  },
});
const send = (r: GarbageReport): Promise<void> => toParent(r);

/** A client frame: FIN + binary, MASK bit, length, 4-byte key, masked payload of 'a's. */
function maskedFrame(size: number): Buffer {
  const head = size < 126 ? 2 : size < 65_536 ? 4 : 10;
  const frame = Buffer.alloc(head + 4 + size, 0x61);
  frame[0] = 0x82;
  if (size < 126) frame[1] = 0x80 | size;
  else if (size < 65_536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(size, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(size), 2);
  }
  const key = randomBytes(4);
  key.copy(frame, head);
  for (let i = 0; i < size; i++) frame[head + 4 + i]! ^= key[i & 3]!;
  return frame;
}

interface Job {
  size: number;
  messages: number;
  pipeline: number;
  batch: Buffer;
  frameLength: number;
  sent: number;
  received: number;
  badSize: number;
  writeErrors: number;
  t0: number;
  finished: boolean;
}
let job: Job | null = null;

/** Per connection: its frame counter and a callback made once, so a read allocates nothing. */
interface ConnState {
  counter: FrameCounter;
  onFrame: (opcode: number, length: number, fin: boolean) => void;
  echoed: number;
}
const states = new WeakMap<RawConnection, ConnState>();

function stateOf(conn: RawConnection): ConnState {
  let s = states.get(conn);
  if (s === undefined) {
    const st: ConnState = {
      counter: new FrameCounter(),
      echoed: 0,
      onFrame: (opcode, length, fin) => {
        if (opcode === 0x8) {
          pool.close(conn);
          return;
        }
        if (!fin || opcode === 0x9 || opcode === 0xa || job === null) return;
        if (length !== job.size) job.badSize++;
        st.echoed++;
      },
    };
    states.set(conn, (s = st));
  }
  return s;
}

/** Sends up to `k` more messages on `conn` (fewer if the job is nearly done), as one write. */
function top(conn: RawConnection, k: number): void {
  const j = job!;
  const n = Math.min(k, j.messages - j.sent);
  if (n <= 0) return;
  j.sent += n;
  if (pool.write(conn, j.batch.subarray(0, n * j.frameLength)) !== 0) j.writeErrors++;
}

const pool: RawClientPool = new RawClientPool({
  host: values.host,
  port: Number(values.port),
  sources: values.sources.split(','),
  onData(conn, buf, start, end) {
    const s = stateOf(conn);
    s.echoed = 0;
    s.counter.feed(buf, start, end, s.onFrame);
    const j = job;
    if (j === null || s.echoed === 0) return;
    j.received += s.echoed;
    top(conn, s.echoed); // one out for each one back: `pipeline` in flight per connection
    if (j.received >= j.messages && !j.finished) {
      j.finished = true;
      void send({
        type: 'ran',
        ms: performance.now() - j.t0,
        sent: j.sent,
        received: j.received,
        badSize: j.badSize,
        writeErrors: j.writeErrors,
        closedByPeer: pool.closedByPeer,
      });
    }
  },
});

process.on('message', (cmd: GarbageCommand) => {
  switch (cmd.type) {
    case 'connect':
      void pool
        .connect(Number(values.connections))
        .then((r) => send({ type: 'connected', open: pool.open.length, failed: r.failed, errors: r.errors }));
      return;
    case 'run': {
      const frame = maskedFrame(cmd.size);
      job = {
        size: cmd.size,
        messages: cmd.messages,
        pipeline: cmd.pipeline,
        batch: Buffer.concat(Array.from({ length: cmd.pipeline }, () => frame)),
        frameLength: frame.length,
        sent: 0,
        received: 0,
        badSize: 0,
        writeErrors: 0,
        t0: performance.now(),
        finished: false,
      };
      for (const conn of pool.open) top(conn, cmd.pipeline);
      return;
    }
    case 'quit':
      void pool
        .closeAll()
        .then(() => send({ type: 'quitted' }))
        .then(() => process.exit(0));
      return;
  }
});
exitWithParent();
void send({ type: 'ready' });
