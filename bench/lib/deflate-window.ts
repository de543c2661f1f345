import { DeflateEngine } from '../../src/compression/deflate-engine.js';
import type { DeflateSession } from '../../src/compression/deflate-session.js';
import { CodecOutput } from '../../src/compression/message-codec.js';
import { BufferPool } from '../../src/pool/buffer-pool.js';
import { printTable } from './format.js';
import { jsonPayload } from './json-payload.js';
import { median } from './stats.js';

/**
 * The handover's copy of each `window` session's inflate window: one 12-bit session per round
 * inflates a stream of 1,024 JSON messages compressed with context takeover, with the copy
 * (keepReceiveWindow, a server) and without (a client), rounds alternating; then the memory of
 * 2,000 sessions after one message each, both ways.
 */
export function windowPart(sizes: number[]): unknown {
  const pool = new BufferPool({});
  const out = new CodecOutput();
  const engineFor = (keep: boolean): DeflateEngine =>
    new DeflateEngine({
      mode: 'window',
      windowBits: 12,
      memLevel: 8,
      level: 6,
      maxBytes: 2 ** 40,
      maxMessageSize: 1 << 24,
      keepReceiveWindow: keep,
    });
  const streamOf = (size: number, count: number): Buffer[] => {
    const compressor = engineFor(false);
    const sender = compressor.session(false, 12, true, 0) as DeflateSession;
    const payloads = Array.from({ length: count }, (_, i) => {
      const input = Buffer.from(jsonPayload(size, i + 1));
      compressor.deflate(sender, 12, input, 0, input.length, pool, out);
      const payload = Buffer.from(out.buf!.subarray(0, out.length));
      pool.release(out.buf!);
      return payload;
    });
    compressor.release(sender);
    return payloads;
  };
  /** µs per message of one round: a fresh session inflating the whole stream. */
  const round = (keep: boolean, payloads: Buffer[]): number => {
    const engine = engineFor(keep);
    const session = engine.session(false, 12, false, 12) as DeflateSession;
    const t0 = performance.now();
    for (const payload of payloads) {
      if (engine.inflate(session, payload, 0, payload.length, pool, out) !== 0) throw new Error('inflate failed');
      pool.release(out.buf!);
    }
    const us = ((performance.now() - t0) * 1000) / payloads.length;
    engine.release(session);
    return us;
  };
  const cpu = sizes.map((size) => {
    const payloads = streamOf(size, 1024);
    const times: Record<string, number[]> = { plain: [], kept: [] };
    for (let r = 0; r < 4; r++) round(r % 2 === 0, payloads); // warm-up
    for (let r = 0; r < 15; r++) {
      times['plain']!.push(round(false, payloads));
      times['kept']!.push(round(true, payloads));
    }
    const plain = median(times['plain']!);
    const kept = median(times['kept']!);
    return { size, usPlain: plain, usKept: kept, ratio: kept / plain };
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  const memory = [false, true].map((keep) => {
    const engine = engineFor(keep);
    const payload = streamOf(2048, 1)[0]!;
    const sessions: DeflateSession[] = [];
    const take = (): NodeJS.MemoryUsage => {
      gc?.();
      gc?.();
      return process.memoryUsage();
    };
    const before = take();
    for (let i = 0; i < 2000; i++) {
      const session = engine.session(false, 12, false, 12) as DeflateSession;
      engine.inflate(session, payload, 0, payload.length, pool, out);
      pool.release(out.buf!);
      sessions.push(session);
    }
    const after = take();
    const per = (key: 'arrayBuffers' | 'heapUsed' | 'rss'): number => (after[key] - before[key]) / sessions.length;
    for (const session of sessions) engine.release(session);
    return {
      keep,
      reservedBytes: sessions[0]!.reservedBytes,
      arrayBuffersPerSession: per('arrayBuffers'),
      heapPerSession: gc === undefined ? null : per('heapUsed'),
      rssPerSession: gc === undefined ? null : per('rss'),
    };
  });
  console.log(
    "\nThe handover's copy of a `window` session's inflate window (12 bits), in process: µs per inflated message, medians of 15 alternating rounds.",
  );
  printTable(
    ['JSON B', 'µs without', 'µs with', 'ratio'],
    cpu.map((r) => [r.size, r.usPlain.toFixed(2), r.usKept.toFixed(2), `${r.ratio.toFixed(3)}×`]),
  );
  console.log('\nPer session after one 2 KiB compressed message (2,000 sessions; heap and RSS need --expose-gc):');
  printTable(
    ['copy', 'reserved B', 'ArrayBuffer B', 'heap B', 'RSS B'],
    memory.map((m) => [
      m.keep ? 'with' : 'without',
      m.reservedBytes,
      m.arrayBuffersPerSession.toFixed(0),
      m.heapPerSession === null ? '-' : m.heapPerSession.toFixed(0),
      m.rssPerSession === null ? '-' : m.rssPerSession.toFixed(0),
    ]),
  );
  return { cpu, memory };
}
