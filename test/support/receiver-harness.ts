import { randomBytes } from 'node:crypto';
export { prng } from './prng.js';
import { ErrorKind, type ErrorKindValue } from '../../src/protocol/protocol-error.js';
import type { ReceiveProgress } from '../../src/protocol/receive-progress.js';
import {
  receive,
  releaseProgress,
  type MessageLender,
  type ReceiverConfig,
  type ReceiverSink,
} from '../../src/protocol/receiver.js';
import { encodeClientFrame } from './frames.js';

/** A lender that counts what is out, so tests can assert nothing leaks. */
export class CountingLender implements MessageLender {
  out = new Set<Buffer>();
  budget = Infinity;
  lent = 0;
  /** The most lent at once, and how many times a buffer was grown (each one a copy). */
  peak = 0;
  grows = 0;
  tryBorrow(size: number): Buffer | null {
    const capacity = Math.max(size, 1024);
    if (this.lent + capacity > this.budget) return null;
    const buf = Buffer.alloc(capacity, 0xee);
    this.out.add(buf);
    this.lent += capacity;
    this.peak = Math.max(this.peak, this.lent);
    return buf;
  }
  /** As the pool's: the net size (`buf` given back) must fit the budget. */
  tryGrow(buf: Buffer, used: number, size: number): Buffer | null {
    if (this.lent - buf.length + Math.max(size, 1024) > this.budget) return null;
    this.grows++;
    this.release(buf);
    const next = this.tryBorrow(size)!;
    buf.copy(next, 0, 0, used);
    return next;
  }
  release(buf: Buffer): void {
    if (!this.out.delete(buf)) throw new Error('released a buffer that is not out');
    this.lent -= buf.length;
  }
  /** Nothing shares a handed-out buffer here: it goes back when the handler returns. */
  handOut(): void {}
  handBack(buf: Buffer): void {
    this.release(buf);
  }
}

export type Event =
  | ['text', string]
  | ['binary', string]
  /** A message whose first frame had RSV1 set (RFC 7692 §6): its payload as received, hex. */
  | ['compressed', 'text' | 'binary', string]
  | ['ping', string]
  | ['pong', string]
  | ['close', number, string]
  | ['error', string, number];

export class TestConn {
  receiving = true;
  progress: ReceiveProgress | null = null;
  events: Event[] = [];
}

export const sink: ReceiverSink<TestConn> = {
  onMessage(conn, data, isBinary, compressed) {
    if (compressed) return void conn.events.push(['compressed', isBinary ? 'binary' : 'text', data.toString('hex')]);
    conn.events.push(isBinary ? ['binary', data.toString('hex')] : ['text', data.toString('utf8')]);
  },
  onPing(conn, data) {
    conn.events.push(['ping', data.toString('hex')]);
  },
  onPong(conn, data) {
    conn.events.push(['pong', data.toString('hex')]);
  },
  onClose(conn, code, reason) {
    conn.receiving = false;
    conn.events.push(['close', code, reason]);
  },
  onError(conn, kind: ErrorKindValue) {
    conn.receiving = false;
    const name = Object.entries(ErrorKind).find(([, v]) => v === kind)![0];
    conn.events.push(['error', name, kind]);
  },
};

export function serverConfig(lender: MessageLender, overrides: Partial<ReceiverConfig> = {}): ReceiverConfig {
  return {
    expectMasked: true,
    allowedRsv: 0,
    maxPayloadLength: 16 * 1024 * 1024,
    minFragmentSize: 16,
    lender,
    ...overrides,
  };
}

/** Runs `chunks` through a fresh connection; each chunk is copied first because unmasking is in place. */
export function run(
  chunks: Buffer[],
  config?: Partial<ReceiverConfig>,
): { events: Event[]; lender: CountingLender; conn: TestConn } {
  const lender = new CountingLender();
  const cfg = serverConfig(lender, config);
  const conn = new TestConn();
  for (const chunk of chunks) {
    if (!conn.receiving) break;
    // Put each chunk at an odd offset inside a bigger slab, like a real shared read buffer.
    const slab = Buffer.alloc(chunk.length + 7);
    chunk.copy(slab, 3);
    receive(conn, slab, 3, 3 + chunk.length, cfg, sink);
  }
  releaseProgress(conn, cfg.lender);
  return { events: conn.events, lender, conn };
}

/** A masked client frame with a random key. */
export function frame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return encodeClientFrame(opcode, data, randomBytes(4).readUInt32BE(0), fin);
}

/** A raw frame built byte by byte, for headers the encoder would never produce. */
export function rawFrame(b0: number, b1: number, extra: number[] = [], payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([b0, b1, ...extra]), payload]);
}
