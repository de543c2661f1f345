import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEnvelope, ENVELOPE_VERSION, HEADER_BYTES, openEnvelope, OriginId } from '../../src/redis/envelope.js';

const self = new OriginId(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
const other = new OriginId(Buffer.from([1, 2, 3, 4, 5, 6, 7, 9]));

test('an envelope is version, flags, origin id, payload; it opens to the same payload and kind', () => {
  const text = encodeEnvelope(other, 'héllo', false);
  assert.deepEqual([...text.subarray(0, HEADER_BYTES)], [ENVELOPE_VERSION, 0, 1, 2, 3, 4, 5, 6, 7, 9]);
  assert.deepEqual(openEnvelope(text, self), {
    ok: true,
    fromSelf: false,
    isBinary: false,
    payload: Buffer.from('héllo'),
  });
  const binary = encodeEnvelope(other, new Uint8Array([0xff, 0, 0xfe]), true);
  assert.equal(binary[1], 1, 'the binary flag');
  assert.deepEqual(openEnvelope(binary, self), {
    ok: true,
    fromSelf: false,
    isBinary: true,
    payload: Buffer.from([0xff, 0, 0xfe]),
  });
  assert.equal(self.toString(), '0102030405060708');
});

test('the payload is copied: the caller may reuse its buffer at once (a borrowed view)', () => {
  const borrowed = Buffer.from('original');
  const envelope = encodeEnvelope(self, borrowed, true);
  borrowed.fill(0);
  assert.equal(envelope.subarray(HEADER_BYTES).toString(), 'original');
});

test('our own id is recognised; every kind of malformed message is told apart', () => {
  assert.deepEqual(openEnvelope(encodeEnvelope(self, 'x', false), self), {
    ok: true,
    fromSelf: true,
    isBinary: false,
    payload: Buffer.from('x'),
  });
  const header = (version: number, flags: number) => Buffer.from([version, flags, 9, 9, 9, 9, 9, 9, 9, 9]);
  const why = (message: Buffer) => {
    const o = openEnvelope(message, self);
    return o.ok ? 'ok' : o.why;
  };
  assert.equal(why(Buffer.alloc(9)), 'shorter than the header');
  assert.equal(why(header(2, 0)), 'version 2');
  assert.equal(why(header(1, 2)), 'unknown flags 2');
  assert.equal(why(Buffer.concat([header(1, 0), Buffer.from([0xc3])])), 'text that is not UTF-8');
  assert.equal(why(Buffer.concat([header(1, 1), Buffer.from([0xc3])])), 'ok', 'binary may be anything');
  assert.equal(why(header(1, 0)), 'ok', 'an empty text message');
  assert.equal(why('not a buffer' as never), 'shorter than the header');
});

test('what send() would refuse is a TypeError; an origin id is 8 bytes', () => {
  assert.throws(() => encodeEnvelope(self, 42 as never, true), /takes a string, Buffer/);
  assert.throws(() => new OriginId(new Uint8Array(7)), /8 bytes/);
});
