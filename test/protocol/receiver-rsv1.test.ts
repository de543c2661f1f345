import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../src/protocol/opcode.js';
import { closeCodeFor, ErrorKind } from '../../src/protocol/protocol-error.js';
import { frame, run } from '../support/receiver-harness.js';

/** RSV1, "Per-Message Compressed" (RFC 7692 §6), as it sits in the first header byte with the opcode. */
const RSV1 = 0x40;
const DEFLATE = { allowedRsv: 4 };
const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex');
// Bytes that are not valid UTF-8: a compressed text message is checked after inflating, not before.
const NOT_UTF8 = Buffer.from([0xff, 0xfe, 0xc3]);

test("RFC 7692 §6: RSV1 on a message's first frame marks it compressed; its payload is not UTF-8 checked here", () => {
  const { events, lender } = run(
    [
      Buffer.concat([
        frame(Opcode.Text | RSV1, NOT_UTF8),
        frame(Opcode.Binary | RSV1, 'ab'),
        frame(Opcode.Text, 'plain'),
      ]),
    ],
    DEFLATE,
  );
  assert.deepEqual(events, [
    ['compressed', 'text', hex(NOT_UTF8)],
    ['compressed', 'binary', hex('ab')],
    ['text', 'plain'],
  ]);
  assert.equal(lender.out.size, 0);
});

test('RFC 7692 §6: a fragmented compressed message is gathered whole, its continuations without RSV1', () => {
  const stream = Buffer.concat([
    frame(Opcode.Text | RSV1, NOT_UTF8.subarray(0, 2), false),
    frame(Opcode.Ping, 'p'),
    frame(Opcode.Continuation, NOT_UTF8.subarray(2)),
  ]);
  // Whole, then one byte per read: the incomplete-frame path must not check compressed text either.
  for (const chunks of [[stream], [...stream].map((b) => Buffer.of(b))]) {
    const { events, lender } = run(chunks, DEFLATE);
    assert.deepEqual(events, [
      ['ping', hex('p')],
      ['compressed', 'text', hex(NOT_UTF8)],
    ]);
    assert.equal(lender.out.size, 0);
  }
});

test('RFC 7692 §6.1: RSV1 on a continuation frame fails with 1002', () => {
  const { events } = run(
    [Buffer.concat([frame(Opcode.Text | RSV1, 'a', false), frame(Opcode.Continuation | RSV1, 'b')])],
    DEFLATE,
  );
  assert.deepEqual(events, [['error', 'MisplacedRsv1', ErrorKind.MisplacedRsv1]]);
  assert.equal(closeCodeFor(ErrorKind.MisplacedRsv1), 1002);
});

test('RFC 7692 §6.1: RSV1 on a control frame fails with 1002, whole or in pieces', () => {
  for (const opcode of [Opcode.Ping, Opcode.Pong, Opcode.Close]) {
    const bytes = frame(opcode | RSV1, Buffer.from([3, 232]));
    for (const chunks of [[bytes], [bytes.subarray(0, 3), bytes.subarray(3)]]) {
      assert.deepEqual(
        run(chunks, DEFLATE).events,
        [['error', 'MisplacedRsv1', ErrorKind.MisplacedRsv1]],
        `opcode ${opcode}`,
      );
    }
  }
});

test('RFC 6455 §5.2: RSV1 without a negotiated extension fails with 1002, as RSV2 and RSV3 always do', () => {
  assert.deepEqual(run([frame(Opcode.Text | RSV1, 'x')]).events, [
    ['error', 'ReservedBitsSet', ErrorKind.ReservedBitsSet],
  ]);
  assert.deepEqual(run([frame(Opcode.Text | 0x20, 'x')], DEFLATE).events, [
    ['error', 'ReservedBitsSet', ErrorKind.ReservedBitsSet],
  ]);
});

test('RFC 6455 §8.1: uncompressed text on a deflate connection is still checked as it arrives', () => {
  const bad = frame(Opcode.Text, Buffer.concat([Buffer.from('ok'), NOT_UTF8]));
  const { events } = run([bad.subarray(0, bad.length - 2), bad.subarray(bad.length - 2)], DEFLATE);
  assert.deepEqual(events, [['error', 'InvalidUtf8', ErrorKind.InvalidUtf8]]);
});
