/**
 * The fuzz client: drives one case over a fresh loopback connection, in the
 * case's own chunking, and records what the server sent back.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { applyMask } from '../../src/protocol/mask.js';
import type { Case } from './cases.js';
import { headEnd, isUtf8, validCloseCode, type ModelResult } from './model.js';
import { Rng } from './rng.js';

export interface Observed {
  /** The HTTP status, null when no response came. */
  status: number | null;
  responseLine: string;
  acceptValid: boolean | null;
  /** Replies (echoes, pongs) that arrived and matched the model, in order. */
  replies: number;
  mismatch: string | null;
  /** The server's close code (1005 for an empty Close), null without a Close. */
  closeCode: number | null;
  closeReason: string;
  badFrame: string | null;
  framesAfterClose: number;
  /** Bytes after an HTTP error response and its Content-Length body (a second response?). */
  bytesAfterRefusal: number;
  timedOut: boolean;
  bytesWritten: number;
  connectError: string | null;
  ms: number;
}

const EMPTY = Buffer.alloc(0);

function expectedAccept(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

function closeFrame(code: number | null): Buffer {
  const key = (Math.random() * 4294967296) >>> 0;
  const payload = Buffer.alloc(code === null || code === 1005 || !validCloseCode(code) ? 0 : 2);
  if (payload.length === 2) payload.writeUInt16BE(code!, 0);
  const frame = Buffer.from([
    0x88,
    0x80 | payload.length,
    key >>> 24,
    (key >>> 16) & 0xff,
    (key >>> 8) & 0xff,
    key & 0xff,
    ...payload,
  ]);
  applyMask(frame, 6, frame.length, key, 0);
  return frame;
}

/**
 * Runs one case on a fresh TCP connection: delivers its bytes in its own
 * chunking, checks every server frame against `expect` as it arrives, and
 * resolves when the socket is closed (or after `boundMs`: a hang).
 */
export function runCase(port: number, c: Case, expect: ModelResult | null, boundMs: number): Promise<Observed> {
  const started = Date.now();
  const obs: Observed = {
    status: null,
    responseLine: '',
    acceptValid: null,
    replies: 0,
    mismatch: null,
    closeCode: null,
    closeReason: '',
    badFrame: null,
    framesAfterClose: 0,
    bytesAfterRefusal: 0,
    timedOut: false,
    bytesWritten: 0,
    connectError: null,
    ms: 0,
  };
  return new Promise((resolve) => {
    // Half-open allowed, so a case can keep writing after the server's FIN (sendAfterRefusal);
    // otherwise the client ends as soon as the server does, as by default.
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true, allowHalfOpen: true });
    let holdOpen = c.sendAfterRefusal;
    let serverEnded = false;
    let refusalBody = 0;
    let pending: Buffer = EMPTY;
    let phase: 'head' | 'frames' | 'http' = 'head';
    let stopWriting = false;
    let statusWaiter: (() => void) | null = null;
    let closed = false;
    const timer = setTimeout(() => {
      obs.timedOut = true;
      socket.destroy();
    }, boundMs);

    const fail = (what: 'mismatch' | 'badFrame', message: string): void => {
      if (obs[what] === null) obs[what] = message;
      socket.destroy();
    };

    const onServerClose = (): void => {
      stopWriting = true;
      if (socket.destroyed || socket.writableEnded) return;
      if (c.echoClose) socket.write(closeFrame(obs.closeCode));
      socket.end();
    };

    const onFrame = (fin: boolean, opcode: number, payload: Buffer): void => {
      if (obs.closeCode !== null) {
        obs.framesAfterClose++;
        return;
      }
      if (opcode === 8) {
        if (payload.length === 1) return fail('badFrame', 'server Close with a 1-byte body');
        obs.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (!isUtf8(payload.subarray(2))) return fail('badFrame', 'server close reason is not UTF-8');
        obs.closeReason = payload.subarray(2).toString('utf8');
        onServerClose();
        return;
      }
      if (!fin || opcode === 0) return fail('mismatch', `server sent a fragment (opcode ${opcode}, fin ${fin})`);
      const want = expect?.replies[obs.replies];
      if (want === undefined)
        return fail('mismatch', `unexpected reply #${obs.replies}: opcode ${opcode}, ${payload.length} B`);
      if (want.opcode !== opcode || !want.payload.equals(payload)) {
        let at = 0;
        while (at < Math.min(want.payload.length, payload.length) && want.payload[at] === payload[at]) at++;
        return fail(
          'mismatch',
          `reply #${obs.replies}: expected opcode ${want.opcode} ${want.payload.length} B, got opcode ${opcode} ${payload.length} B (first difference at byte ${at}: ` +
            `expected ${want.payload.subarray(at, at + 8).toString('hex')} got ${payload.subarray(at, at + 8).toString('hex')})`,
        );
      }
      obs.replies++;
    };

    const parse = (): void => {
      if (phase === 'head') {
        const end = headEnd(pending);
        if (end < 0) {
          if (pending.length > 16384) fail('badFrame', 'response head over 16 KiB');
          return;
        }
        const head = pending.toString('latin1', 0, end);
        pending = pending.subarray(end);
        obs.responseLine = head.slice(0, head.indexOf('\r\n'));
        const m = /^HTTP\/1\.1 (\d{3}) /.exec(obs.responseLine);
        obs.status = m === null ? -1 : Number(m[1]);
        const contentLength = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        refusalBody = contentLength === null ? 0 : Number(contentLength[1]);
        if (obs.status === 101) {
          const accept = /\r\nsec-websocket-accept:[ \t]*([^\r\n]*?)[ \t]*\r\n/i.exec(head);
          obs.acceptValid = accept !== null && accept[1] === expectedAccept(c.key);
          phase = 'frames';
        } else phase = 'http';
        statusWaiter?.();
      }
      if (phase === 'http') {
        // The error body, then nothing: a second response would be a second request served.
        const body = Math.min(refusalBody, pending.length);
        refusalBody -= body;
        obs.bytesAfterRefusal += pending.length - body;
        pending = EMPTY;
        return;
      }
      if (phase !== 'frames') return;
      for (;;) {
        if (pending.length < 2) return;
        const b0 = pending[0]!;
        const b1 = pending[1]!;
        const opcode = b0 & 0x0f;
        if ((b0 & 0x70) !== 0 || (b1 & 0x80) !== 0 || !(opcode <= 2 || (opcode >= 8 && opcode <= 10))) {
          return fail('badFrame', `malformed server frame header ${pending.subarray(0, 2).toString('hex')}`);
        }
        const len7 = b1 & 0x7f;
        const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
        if (pending.length < 2 + extra) return;
        const length = extra === 0 ? len7 : extra === 2 ? pending.readUInt16BE(2) : Number(pending.readBigUInt64BE(2));
        if (opcode >= 8 && (length > 125 || (b0 & 0x80) === 0))
          return fail('badFrame', 'malformed server control frame');
        if (pending.length < 2 + extra + length) return;
        const payload = pending.subarray(2 + extra, 2 + extra + length);
        pending = pending.subarray(2 + extra + length);
        onFrame((b0 & 0x80) !== 0, opcode, payload);
        if (socket.destroyed) return;
      }
    };

    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      parse();
    });
    socket.on('end', () => {
      serverEnded = true;
      statusWaiter?.(); // the server ended without (or after) its response
      if (!holdOpen && !socket.writableEnded) socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (obs.bytesWritten === 0 && error.code === 'ECONNREFUSED') obs.connectError = error.message;
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      stopWriting = true;
      statusWaiter?.();
      obs.ms = Date.now() - started;
      resolve(obs);
    });

    const rng = new Rng(c.chunkSeed);
    const write = async (data: Buffer): Promise<boolean> => {
      if (stopWriting || socket.destroyed || socket.writableEnded) return false;
      obs.bytesWritten += data.length;
      if (!socket.write(data)) {
        await new Promise<void>((done) => {
          const finish = (): void => {
            socket.off('drain', finish);
            socket.off('close', finish);
            done();
          };
          socket.on('drain', finish);
          socket.on('close', finish);
        });
      }
      return !stopWriting && !socket.destroyed;
    };
    const tick = (): Promise<void> => new Promise((done) => setImmediate(done));
    // Yield between writes for at most a second: under load each yield can take many
    // milliseconds, and a slower delivery would (rightly) meet the handshake or
    // slow-message timeouts. The bytes are the same either way.
    let yieldUntil = 0;
    const mayYield = (): boolean => Date.now() < yieldUntil;
    /** Sends `data` the case's way; false once the connection is gone or done. */
    const deliver = async (data: Buffer): Promise<boolean> => {
      let at = 0;
      if (c.delivery === 'trickle') {
        const until = Math.min(data.length, 400);
        for (; at < until && mayYield(); at++) {
          if (!(await write(data.subarray(at, at + 1)))) return false;
          await tick();
        }
      } else if (c.delivery === 'chunks') {
        while (at < data.length) {
          const size = rng.chance(0.4) && at < 8192 ? rng.range(1, 16) : rng.range(1, 16384);
          if (!(await write(data.subarray(at, at + size)))) return false;
          at += size;
          if (rng.chance(0.25) && mayYield()) await tick();
        }
        return true;
      }
      if (at < data.length) return write(at === 0 ? data : data.subarray(at));
      return true;
    };

    socket.once('connect', () => {
      yieldUntil = Date.now() + 1000;
      void (async () => {
        const all = c.body.length === 0 ? c.head : Buffer.concat([c.head, c.body]);
        if (c.ending === 'reset') {
          await deliver(all.subarray(0, c.resetAt));
          if (closed) return;
          if (c.resetHard) socket.resetAndDestroy();
          else socket.destroy();
          return;
        }
        if (c.waitFor101) {
          if (!(await deliver(c.head))) return;
          if (c.body.length > 0) {
            if (obs.status === null && !closed) await new Promise<void>((done) => (statusWaiter = done));
            if (closed || obs.status === null || (obs.status !== 101 && !c.sendAfterRefusal)) {
              holdOpen = false;
              if (serverEnded && !socket.destroyed && !socket.writableEnded) socket.end();
              return;
            }
            const delivered = await deliver(c.body);
            if (holdOpen) {
              holdOpen = false;
              if (serverEnded && !socket.destroyed && !socket.writableEnded) socket.end();
            }
            if (!delivered) return;
          }
        } else if (!(await deliver(all))) return;
        if (c.ending === 'halfclose' && !socket.destroyed && !socket.writableEnded) socket.end();
      })().catch(() => socket.destroy());
    });
  });
}
