import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../src/protocol/opcode.js';
import { frame, prng, run, type Event } from '../support/receiver-harness.js';

/** A random but valid client stream and the events it must produce. */
const ALL_SIZES = [0, 1, 5, 125, 126, 127, 1000, 65535, 65536, 70000];
const SMALL_SIZES = [0, 1, 5, 125, 126, 127, 300];

function validStream(random: () => number, messages: number, sizes = ALL_SIZES): { stream: Buffer; expected: Event[] } {
  const parts: Buffer[] = [];
  const expected: Event[] = [];
  const words = ['a', 'é', '€', '𝄞', 'hello ', 'ünï', '漢字', '🙂'];
  for (let i = 0; i < messages; i++) {
    const isText = random() < 0.5;
    const size = sizes[Math.floor(random() * sizes.length)]!;
    let payload: Buffer;
    if (isText) {
      const parts: string[] = [];
      for (let bytes = 0; bytes < size;) {
        const word = words[Math.floor(random() * words.length)]!;
        parts.push(word);
        bytes += Buffer.byteLength(word);
      }
      payload = Buffer.from(parts.join(''));
    } else {
      payload = Buffer.alloc(size);
      for (let j = 0; j < size; j += 97) payload[j] = Math.floor(random() * 256);
    }
    const fragments = random() < 0.4 ? 1 + Math.floor(random() * 4) : 1;
    let at = 0;
    for (let f = 0; f < fragments; f++) {
      const last = f === fragments - 1;
      // Cut anywhere, including inside a UTF-8 sequence.
      const cut = last
        ? payload.length
        : Math.min(payload.length, at + Math.floor(random() * (payload.length - at + 1)));
      parts.push(
        frame(f === 0 ? (isText ? Opcode.Text : Opcode.Binary) : Opcode.Continuation, payload.subarray(at, cut), last),
      );
      at = cut;
      if (!last && random() < 0.5) {
        const ping = Buffer.from(`ping ${i}.${f}`);
        parts.push(frame(Opcode.Ping, ping));
        expected.push(['ping', ping.toString('hex')]);
      }
    }
    expected.push(isText ? ['text', payload.toString('utf8')] : ['binary', payload.toString('hex')]);
  }
  return { stream: Buffer.concat(parts), expected };
}

test('§5.2/§5.4: a valid stream split at every boundary decodes to the same messages', () => {
  const random = prng(0x5eed);
  const { stream, expected } = validStream(random, 12);
  const small = validStream(random, 12, SMALL_SIZES);
  // Every split point of a stream of small frames (7- and 16-bit lengths); a
  // sample of split points for the big one, whose frames use 64-bit lengths.
  for (let cut = 0; cut <= small.stream.length; cut++) {
    const { events, lender } = run([small.stream.subarray(0, cut), small.stream.subarray(cut)]);
    assert.deepEqual(events, small.expected, `split at ${cut}`);
    assert.equal(lender.out.size, 0);
  }
  for (let cut = 0; cut <= stream.length; cut += 1 + Math.floor(random() * 2000)) {
    const { events, lender } = run([stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(events, expected, `split at ${cut}`);
    assert.equal(lender.out.size, 0);
  }
});

test('§5.2/§5.4: a valid stream arriving one byte at a time decodes to the same messages', () => {
  const { stream, expected } = validStream(prng(7), 8, SMALL_SIZES.concat([70000]));
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  const { events, lender } = run(chunks);
  assert.deepEqual(events, expected);
  assert.equal(lender.out.size, 0);
});

test('§5.2/§5.4: random chunkings (1 B to 64 KiB) decode to the same messages', () => {
  const random = prng(42);
  for (let round = 0; round < 40; round++) {
    const { stream, expected } = validStream(random, 10);
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length;) {
      const size = 1 + Math.floor(random() ** 3 * 65536);
      chunks.push(stream.subarray(at, at + size));
      at += size;
    }
    const { events, lender } = run(chunks);
    assert.deepEqual(events, expected, `round ${round}`);
    assert.equal(lender.out.size, 0);
  }
});

test('random bytes never throw out of the decoder: they yield messages or one protocol error', () => {
  const random = prng(1234);
  let errors = 0;
  for (let round = 0; round < 3000; round++) {
    const bytes = Buffer.alloc(1 + Math.floor(random() * 300));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
    // Bias toward plausible headers so the deeper rules get exercised too.
    if (random() < 0.7) bytes[1] = (bytes[1]! & 0x7f) | 0x80;
    const cut = Math.floor(random() * bytes.length);
    const { events, lender } = run([bytes.subarray(0, cut), bytes.subarray(cut)], { maxPayloadLength: 1 << 16 });
    const errorEvents = events.filter((e) => e[0] === 'error');
    assert.ok(errorEvents.length <= 1);
    if (errorEvents.length === 1) {
      errors++;
      assert.equal(events.at(-1)![0], 'error', 'nothing is delivered after an error');
    }
    assert.equal(lender.out.size, 0);
  }
  assert.ok(errors > 1000, `most random streams are protocol errors (${errors})`);
});
