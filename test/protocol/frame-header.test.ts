import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createFrameHeader,
  decodeFrameHeader,
  frameHeaderLength,
  HEADER_INCOMPLETE,
  writeFrameHeader,
  type HeaderRules,
} from '../../src/protocol/frame-header.js';
import { applyMask } from '../../src/protocol/mask.js';
import { ErrorKind } from '../../src/protocol/protocol-error.js';
import { encodeClientFrame, encodeServerFrame } from '../support/frames.js';

const server: HeaderRules = { expectMasked: true, allowedRsv: 0, maxPayloadLength: 16 * 1024 * 1024 };
const client: HeaderRules = { expectMasked: false, allowedRsv: 0, maxPayloadLength: 16 * 1024 * 1024 };

function decode(bytes: number[], rules = server) {
  const out = createFrameHeader();
  const buf = Buffer.from(bytes);
  return { n: decodeFrameHeader(buf, 0, buf.length, out, rules), out };
}

test('§5.2: 7-bit length, masked, FIN text', () => {
  const { n, out } = decode([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
  assert.equal(n, 6);
  assert.deepEqual(out, {
    fin: true,
    rsv: 0,
    opcode: 1,
    masked: true,
    maskKey: 0x37fa213d,
    payloadLength: 5,
    headerLength: 6,
  });
});

test('§5.2: 16-bit and 64-bit lengths decode, including 2^32 and above', () => {
  for (const length of [126, 127, 65535, 65536, 2 ** 32 + 5, 2 ** 40]) {
    const buf = Buffer.alloc(14);
    const written = writeFrameHeader(buf, 0, true, 2, length, true, 0x01020304);
    const out = createFrameHeader();
    const n = decodeFrameHeader(buf, 0, written, out, { ...server, maxPayloadLength: 2 ** 53 });
    assert.equal(n, written);
    assert.equal(out.payloadLength, length);
    assert.equal(out.maskKey, 0x01020304);
  }
});

test('§5.2: incomplete headers report how many bytes are needed, at every prefix', () => {
  const buf = Buffer.alloc(14);
  const written = writeFrameHeader(buf, 0, true, 2, 70000, true, 0xdeadbeef);
  const out = createFrameHeader();
  for (let end = 0; end < written; end++) {
    assert.equal(decodeFrameHeader(buf, 0, end, out, server), HEADER_INCOMPLETE, `prefix ${end}`);
    assert.ok(out.headerLength > end && out.headerLength <= written);
  }
  assert.equal(decodeFrameHeader(buf, 0, written, out, server), 14);
});

test('§5.2: decoding at an offset inside a larger buffer reads only [offset, end)', () => {
  const buf = Buffer.from([0xff, 0xff, 0x82, 0x80, 1, 2, 3, 4, 0xff]);
  const out = createFrameHeader();
  assert.equal(decodeFrameHeader(buf, 2, 8, out, server), 6);
  assert.equal(out.opcode, 2);
  assert.equal(out.payloadLength, 0);
  assert.equal(out.maskKey, 0x01020304);
});

test('§5.1: an unmasked client frame is rejected (1002)', () => {
  assert.equal(decode([0x81, 0x05]).n, -ErrorKind.UnmaskedClientFrame);
});

test('§5.1: a masked server frame is rejected in the client role', () => {
  assert.equal(decode([0x81, 0x80, 0, 0, 0, 0], client).n, -ErrorKind.MaskedServerFrame);
  assert.equal(decode([0x81, 0x00], client).n, 2);
});

test('§5.2: RSV1, RSV2 or RSV3 without a negotiated extension is rejected', () => {
  for (const bit of [0x40, 0x20, 0x10]) assert.equal(decode([0x81 | bit, 0x80]).n, -ErrorKind.ReservedBitsSet);
  // An extension that negotiated RSV1 (permessage-deflate) allows that bit only.
  const deflate = { ...server, allowedRsv: 4 };
  assert.equal(decode([0xc1, 0x80, 0, 0, 0, 0], deflate).n, 6);
  assert.equal(decode([0xa1, 0x80, 0, 0, 0, 0], deflate).n, -ErrorKind.ReservedBitsSet);
});

test('§5.2: reserved opcodes 3–7 and 11–15 are rejected from the first two bytes', () => {
  for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
    assert.equal(decode([0x80 | op, 0xfe]).n, -ErrorKind.ReservedOpcode);
  for (const op of [0, 1, 2, 8, 9, 10]) assert.equal(decode([0x80 | op, 0x80, 0, 0, 0, 0]).n, 6);
});

test('§5.5: control frames over 125 bytes or fragmented are rejected', () => {
  for (const op of [8, 9, 10]) {
    assert.equal(decode([0x80 | op, 0x80 | 126]).n, -ErrorKind.ControlFrameTooLong);
    assert.equal(decode([op, 0x80]).n, -ErrorKind.FragmentedControlFrame);
    assert.equal(decode([0x80 | op, 0x80 | 125, 0, 0, 0, 0]).n, 6);
  }
});

test('§5.2: a 64-bit length with the most significant bit set is rejected (1009)', () => {
  const { n } = decode([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(n, -ErrorKind.PayloadLengthTooLarge);
});

test('§10.4: a length above maxPayloadLength is rejected from the header alone, before the masking key', () => {
  const rules = { ...server, maxPayloadLength: 1000 };
  assert.equal(decode([0x82, 0xfe, 0x03, 0xe9], rules).n, -ErrorKind.MessageTooBig);
  assert.equal(decode([0x82, 0xfe, 0x03, 0xe8], rules).n, HEADER_INCOMPLETE);
  assert.equal(decode([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0], rules).n, -ErrorKind.MessageTooBig);
});

test('§5.2: header is 2, 4 or 10 bytes by payload length, +4 when masked', () => {
  const cases: [number, number][] = [
    [0, 2],
    [125, 2],
    [126, 4],
    [65535, 4],
    [65536, 10],
    [2 ** 32, 10],
  ];
  for (const [length, size] of cases) {
    assert.equal(frameHeaderLength(length, false), size);
    assert.equal(frameHeaderLength(length, true), size + 4);
    const buf = Buffer.alloc(14);
    assert.equal(writeFrameHeader(buf, 0, true, 2, length), size);
  }
});

test('§5.7: the RFC examples encode byte for byte', () => {
  // A single-frame unmasked text message "Hello"
  assert.deepEqual([...encodeServerFrame(1, Buffer.from('Hello'))], [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
  // A single-frame masked text message "Hello"
  assert.deepEqual(
    [...encodeClientFrame(1, Buffer.from('Hello'), 0x37fa213d)],
    [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
  );
  // A fragmented unmasked text message: "Hel" then "lo"
  assert.deepEqual([...encodeServerFrame(1, Buffer.from('Hel'), false)], [0x01, 0x03, 0x48, 0x65, 0x6c]);
  assert.deepEqual([...encodeServerFrame(0, Buffer.from('lo'))], [0x80, 0x02, 0x6c, 0x6f]);
  // 256 bytes binary message in a single unmasked frame
  assert.deepEqual([...encodeServerFrame(2, Buffer.alloc(256)).subarray(0, 4)], [0x82, 0x7e, 0x01, 0x00]);
  // 64KiB binary message in a single unmasked frame
  assert.deepEqual(
    [...encodeServerFrame(2, Buffer.alloc(65536)).subarray(0, 10)],
    [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0],
  );
});

test('§5.3: a client frame decodes back to the payload after unmasking', () => {
  const payload = Buffer.from('a longer payload that spans words: ✓ ünïcödé');
  const frame = encodeClientFrame(2, payload, 0xa1b2c3d4);
  const out = createFrameHeader();
  const n = decodeFrameHeader(frame, 0, frame.length, out, {
    expectMasked: true,
    allowedRsv: 0,
    maxPayloadLength: 1e6,
  });
  applyMask(frame, n, frame.length, out.maskKey, 0);
  assert.deepEqual(frame.subarray(n), payload);
});
