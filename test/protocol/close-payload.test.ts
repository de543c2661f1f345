import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCode, closeCodeName, isValidWireCloseCode } from '../../src/protocol/close-code.js';
import { decodeClosePayload, encodeClosePayload } from '../../src/protocol/close-payload.js';
import { ErrorKind } from '../../src/protocol/protocol-error.js';

test('§7.4.1: codes 0–999, 1004–1006, 1015, 1016–2999 and ≥ 5000 may not be on the wire', () => {
  const invalid = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
  const valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  for (const code of invalid) assert.equal(isValidWireCloseCode(code), false, `${code}`);
  for (const code of valid) assert.equal(isValidWireCloseCode(code), true, `${code}`);
});

test('§7.4: the close code table names every code', () => {
  assert.equal(closeCodeName(1009), 'MessageTooBig');
  assert.equal(closeCodeName(CloseCode.GoingAway), 'GoingAway');
  assert.equal(closeCodeName(4001), 'private (4001)');
  assert.equal(closeCodeName(3001), 'registered (3001)');
  assert.equal(closeCodeName(2000), 'invalid (2000)');
});

test('§5.5.1: close payload round-trips code and UTF-8 reason', () => {
  const payload = encodeClosePayload(1001, 'server restart – bientôt');
  assert.deepEqual(decodeClosePayload(payload, 0, payload.length), { code: 1001, reason: 'server restart – bientôt' });
  assert.equal(encodeClosePayload().length, 0);
});

test('§5.5.1: an empty close body reports 1005 (no status received)', () => {
  assert.deepEqual(decodeClosePayload(Buffer.alloc(0), 0, 0), { code: 1005, reason: '' });
});

test('§5.5.1: a 1-byte close body is a protocol error', () => {
  assert.equal(decodeClosePayload(Buffer.from([3]), 0, 1), -ErrorKind.InvalidCloseLength);
});

test('§7.4.1: a received reserved or undefined code is a protocol error', () => {
  for (const code of [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
    const buf = Buffer.from([code >> 8, code & 0xff]);
    assert.equal(decodeClosePayload(buf, 0, 2), -ErrorKind.InvalidCloseCode, `${code}`);
  }
});

test('§5.5.1: a close reason that is not UTF-8 is rejected (1007)', () => {
  const buf = Buffer.from([
    0x03, 0xe8, 0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80,
  ]);
  assert.equal(decodeClosePayload(buf, 0, buf.length), -ErrorKind.InvalidCloseReasonUtf8);
});

test('§5.5: encoding refuses codes that may not be sent and reasons over 123 bytes', () => {
  assert.throws(() => encodeClosePayload(1006), RangeError);
  assert.throws(() => encodeClosePayload(1000, 'x'.repeat(124)), RangeError);
  assert.throws(() => encodeClosePayload(1005, 'reason without a code'), RangeError);
  assert.equal(encodeClosePayload(1000, 'é'.repeat(61)).length, 124);
});
