import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeClientFrame, encodeServerFrame, frameHeaderLength, writeFrameHeader } from '../../src/protocol/frame-encoder.js';
import { createFrameHeader, decodeFrameHeader } from '../../src/protocol/frame-header.js';
import { applyMask } from '../../src/protocol/mask.js';

test('§5.2: header is 2, 4 or 10 bytes by payload length, +4 when masked', () => {
  const cases: [number, number][] = [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10], [2 ** 32, 10]];
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
  const n = decodeFrameHeader(frame, 0, frame.length, out, { expectMasked: true, allowedRsv: 0, maxPayloadLength: 1e6 });
  applyMask(frame, n, frame.length, out.maskKey, 0);
  assert.deepEqual(frame.subarray(n), payload);
});
