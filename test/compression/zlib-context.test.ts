import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { Z_SYNC_FLUSH, ZlibContext } from '../../src/compression/zlib-context.js';
import { Compressor } from '../support/deflate.js';
import { prng } from '../support/prng.js';

const TAIL = Buffer.of(0, 0, 0xff, 0xff);

/** One message through an inflater that keeps its window (§7.2.2); null when zlib refused it. */
function inflate(ctx: ZlibContext, payload: Buffer): Buffer | null {
  const input = Buffer.concat([payload, TAIL]);
  const out = Buffer.alloc(1 << 20);
  const free = ctx.process(Z_SYNC_FLUSH, input, 0, input.length, out, 0, out.length);
  return free < 0 ? null : Buffer.from(out.subarray(0, out.length - free));
}

/**
 * Messages of random (incompressible) pieces that come back: message i is
 * pieces i, i+1 and i+2 (of 6, in turn), so each refers back into the one before it.
 */
function messages(seed: number, piece: number, count: number): Buffer[] {
  const random = prng(seed);
  const pieces = Array.from({ length: 6 }, () =>
    Buffer.from(Array.from({ length: piece }, () => 33 + Math.floor(random() * 90))),
  );
  return Array.from({ length: count }, (_, i) => Buffer.concat([0, 1, 2].map((k) => pieces[(i + k) % 6]!)));
}

test('a raw inflater primed with the last 2^bits bytes another one inflated goes on with its stream (Node sets the dictionary of a raw inflater at once)', () => {
  for (const bits of [9, 12, 15]) {
    const size = 1 << bits;
    const sent = messages(bits, Math.floor(size / 5), 40);
    const compressor = new Compressor(bits);
    const payloads = sent.map((m) => compressor.compress(m));
    compressor.close();
    const old = ZlibContext.inflate(bits);
    let output = Buffer.alloc(0);
    for (const payload of payloads.slice(0, 20)) output = Buffer.concat([output, inflate(old, payload)!]);
    old.close();
    const primed = ZlibContext.inflate(bits, output.subarray(output.length - size));
    assert.equal(primed.primed, true);
    for (let i = 20; i < 40; i++)
      assert.deepEqual(inflate(primed, payloads[i]!), sent[i], `${bits} bits, message ${i}`);
    primed.close();
    // The control: without the window, the first message after the cut refers back to nothing.
    const fresh = ZlibContext.inflate(bits);
    const read = inflate(fresh, payloads[20]!);
    assert.ok(read === null || !read.equals(sent[20]!), `${bits} bits: message 20 needs the window`);
    fresh.close();
  }
});

test("a fresh compressor's messages read on in the peer's inflater that read the old one's: each message ends at a sync flush, on a byte boundary", () => {
  for (const bits of [9, 12, 15]) {
    const sent = messages(100 + bits, Math.floor((1 << bits) / 5), 20);
    const before = new Compressor(bits);
    const after = new Compressor(bits); // the new process's: nothing of the old window
    const payloads = sent.map((m, i) => (i < 10 ? before : after).compress(m));
    before.close();
    after.close();
    // Read as one stream by an inflater of zlib's public API, as a peer that kept its context reads it.
    const stream = Buffer.concat(payloads.flatMap((p) => [p, TAIL]));
    assert.deepEqual(zlib.inflateRawSync(stream, { finishFlush: Z_SYNC_FLUSH, windowBits: bits }), Buffer.concat(sent));
    const peer = ZlibContext.inflate(bits);
    for (let i = 0; i < sent.length; i++) assert.deepEqual(inflate(peer, payloads[i]!), sent[i]);
    peer.close();
  }
});
