import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../src/protocol/opcode.js';
import { closeCodeFor, ErrorKind } from '../../src/protocol/protocol-error.js';
import { receive, releaseProgress } from '../../src/protocol/receiver.js';
import { CountingLender, frame, rawFrame, run, serverConfig, sink, TestConn } from '../support/receiver-harness.js';

const close = (code: number, reason = '') => {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2);
  return frame(Opcode.Close, body);
};

test('§5.6: single-frame text and binary messages are delivered in order', () => {
  const { events, lender } = run([Buffer.concat([frame(1, 'hello'), frame(2, Buffer.from([1, 2, 3])), frame(1, '')])]);
  assert.deepEqual(events, [
    ['text', 'hello'],
    ['binary', '010203'],
    ['text', ''],
  ]);
  assert.equal(lender.out.size, 0, 'complete frames borrow nothing');
});

test('§5.4: a fragmented message is reassembled, with control frames interleaved', () => {
  const stream = Buffer.concat([
    frame(1, 'Hel', false),
    frame(Opcode.Ping, 'p1'),
    frame(0, 'lo, ', false),
    frame(Opcode.Pong, 'p2'),
    frame(0, 'wörld'),
  ]);
  const { events, lender } = run([stream]);
  assert.deepEqual(events, [
    ['ping', Buffer.from('p1').toString('hex')],
    ['pong', Buffer.from('p2').toString('hex')],
    ['text', 'Hello, wörld'],
  ]);
  assert.equal(lender.out.size, 0);
});

test('§5.4: continuation without a started message fails with 1002', () => {
  const { events } = run([frame(0, 'orphan')]);
  assert.deepEqual(events, [['error', 'UnexpectedContinuation', ErrorKind.UnexpectedContinuation]]);
  assert.equal(closeCodeFor(ErrorKind.UnexpectedContinuation), 1002);
});

test('§5.4: a new data frame inside a fragmented message fails with 1002', () => {
  const { events, lender } = run([Buffer.concat([frame(2, 'a', false), frame(2, 'b')])]);
  assert.deepEqual(events, [['error', 'ExpectedContinuation', ErrorKind.ExpectedContinuation]]);
  assert.equal(closeCodeFor(ErrorKind.ExpectedContinuation), 1002);
  assert.equal(lender.out.size, 0, 'the failed message buffer went back');
});

test('§5.1: an unmasked frame from a client fails the connection with 1002', () => {
  const { events } = run([rawFrame(0x81, 0x02, [], Buffer.from('hi'))]);
  assert.deepEqual(events, [['error', 'UnmaskedClientFrame', ErrorKind.UnmaskedClientFrame]]);
});

test('§5.5: frames after a protocol error are not read', () => {
  const { events } = run([Buffer.concat([frame(1, 'ok'), rawFrame(0x83, 0x80, [0, 0, 0, 0]), frame(1, 'never')])]);
  assert.deepEqual(events, [
    ['text', 'ok'],
    ['error', 'ReservedOpcode', ErrorKind.ReservedOpcode],
  ]);
});

test('§10.4: a message over maxMessageSize fails with 1009, single frame or across fragments', () => {
  const single = run([frame(2, Buffer.alloc(101))], { maxPayloadLength: 100 });
  assert.deepEqual(single.events, [['error', 'MessageTooBig', ErrorKind.MessageTooBig]]);
  const fragmented = run([Buffer.concat([frame(2, Buffer.alloc(60), false), frame(0, Buffer.alloc(41))])], {
    maxPayloadLength: 100,
  });
  assert.deepEqual(fragmented.events, [['error', 'MessageTooBig', ErrorKind.MessageTooBig]]);
  assert.equal(closeCodeFor(ErrorKind.MessageTooBig), 1009);
  const exact = run([Buffer.concat([frame(2, Buffer.alloc(60), false), frame(0, Buffer.alloc(40))])], {
    maxPayloadLength: 100,
  });
  assert.equal(exact.events.length, 1);
  assert.equal(exact.events[0]![0], 'binary');
});

test('§10.4: an oversized frame is refused from its header, before its payload is buffered', () => {
  const header = frame(2, Buffer.alloc(5000)).subarray(0, 8);
  const { events, lender } = run([header], { maxPayloadLength: 4096 });
  assert.deepEqual(events, [['error', 'MessageTooBig', ErrorKind.MessageTooBig]]);
  assert.equal(lender.lent, 0);
});

test('§10.4: past 1024 fragments, fragments averaging under minFragmentSize fail with 1008; larger ones pass', () => {
  const empty = [
    frame(0x2, '', false),
    ...Array.from({ length: 1100 }, () => frame(0x0, '', false)),
    frame(0x0, 'end'),
  ];
  const events = run([Buffer.concat(empty)]).events;
  assert.deepEqual(events, [['error', 'FragmentsTooSmall', ErrorKind.FragmentsTooSmall]]);
  // The 1025th empty fragment is the first refused: 1024 are free.
  assert.deepEqual(run([Buffer.concat(empty.slice(0, 1024))]).events, []);
  assert.equal(run([Buffer.concat(empty.slice(0, 1025))]).events.length, 1);
  // 4 MiB in 64 B fragments, as Autobahn 9.3.1 sends it, is one message.
  const piece = Buffer.alloc(64, 0x61);
  const parts = [
    frame(0x1, piece, false),
    ...Array.from({ length: 65534 }, () => frame(0x0, piece, false)),
    frame(0x0, piece),
  ];
  const big = run([Buffer.concat(parts)]).events;
  assert.equal(big.length, 1);
  assert.deepEqual([big[0]![0], (big[0]![1] as string).length], ['text', 4 * 1024 * 1024]);
  // 0 turns the rule off.
  assert.deepEqual(run([Buffer.concat(empty)], { minFragmentSize: 0 }).events, [
    ['binary', Buffer.from('end').toString('hex')],
  ]);
});

test('§8.1: invalid UTF-8 in a text message fails with 1007', () => {
  const { events } = run([frame(1, Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80]))]);
  assert.deepEqual(events, [['error', 'InvalidUtf8', ErrorKind.InvalidUtf8]]);
  assert.equal(closeCodeFor(ErrorKind.InvalidUtf8), 1007);
});

test('§8.1: a text message split inside a code point across fragments is valid', () => {
  const euro = Buffer.from('€uro'); // e2 82 ac ...
  const { events } = run([
    Buffer.concat([
      frame(1, euro.subarray(0, 1), false),
      frame(0, euro.subarray(1, 2), false),
      frame(0, euro.subarray(2)),
    ]),
  ]);
  assert.deepEqual(events, [['text', '€uro']]);
});

test('§8.1: invalid UTF-8 fails on the fragment that carries it, before the message completes', () => {
  const { events } = run([Buffer.concat([frame(1, 'ok', false), frame(0, Buffer.from([0xc0, 0xaf]), false)])]);
  assert.deepEqual(events, [['error', 'InvalidUtf8', ErrorKind.InvalidUtf8]]);
});

test('§8.1: invalid UTF-8 inside one frame fails as soon as the read that carries it arrives (fail fast)', () => {
  // One text frame in three reads, the bad bytes in the second (Autobahn 6.4.3/6.4.4).
  const payload = Buffer.concat([
    Buffer.from('κόσμε'),
    Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xf4, 0x90, 0x80, 0x80]),
    Buffer.from('edited'),
  ]);
  const wire = frame(0x1, payload);
  const header = wire.length - payload.length;
  const chops = [wire.subarray(0, header + 10), wire.subarray(header + 10, header + 30), wire.subarray(header + 30)];
  assert.deepEqual(run(chops.slice(0, 1)).events, []);
  assert.deepEqual(run(chops.slice(0, 2)).events, [['error', 'InvalidUtf8', ErrorKind.InvalidUtf8]]);
  // The same inside a continuation of a text message, and when the frame's first read held only its header.
  const start = frame(0x1, 'ab', false);
  const cont = frame(0x0, payload);
  const contHeader = cont.length - payload.length;
  assert.deepEqual(run([start, cont.subarray(0, contHeader), cont.subarray(contHeader, contHeader + 30)]).events, [
    ['error', 'InvalidUtf8', ErrorKind.InvalidUtf8],
  ]);
  // Valid text cut inside a code point at every read boundary is still one good message.
  const good = Buffer.from('héllo €𝄞 wörld');
  const goodWire = frame(0x1, good);
  assert.deepEqual(run([...goodWire].map((b) => Buffer.from([b]))).events, [['text', good.toString()]]);
  // Binary frames are never checked.
  const binary = frame(0x2, payload);
  assert.deepEqual(run([binary.subarray(0, 20), binary.subarray(20)]).events, [['binary', payload.toString('hex')]]);
});

test('§8.1: a text message that ends inside a code point fails with 1007', () => {
  const { events } = run([Buffer.concat([frame(1, 'ok', false), frame(0, Buffer.from([0xe2, 0x82]))])]);
  assert.deepEqual(events, [['error', 'InvalidUtf8', ErrorKind.InvalidUtf8]]);
});

test('§5.5.1: a close frame is reported with its code and reason, and nothing after it is read', () => {
  const { events } = run([Buffer.concat([close(1000, 'bye'), frame(1, 'after')])]);
  assert.deepEqual(events, [['close', 1000, 'bye']]);
});

test('§5.5.1: an empty close reports 1005; a 1-byte close and bad codes fail with 1002', () => {
  assert.deepEqual(run([frame(Opcode.Close, Buffer.alloc(0))]).events, [['close', 1005, '']]);
  assert.deepEqual(run([frame(Opcode.Close, Buffer.from([3]))]).events, [
    ['error', 'InvalidCloseLength', ErrorKind.InvalidCloseLength],
  ]);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
    assert.deepEqual(run([close(code)]).events, [['error', 'InvalidCloseCode', ErrorKind.InvalidCloseCode]], `${code}`);
  }
  assert.deepEqual(run([close(4999)]).events, [['close', 4999, '']]);
});

test('§5.5.1: a close reason that is not UTF-8 fails with 1007', () => {
  const body = Buffer.from([0x03, 0xe8, 0xff]);
  assert.deepEqual(run([frame(Opcode.Close, body)]).events, [
    ['error', 'InvalidCloseReasonUtf8', ErrorKind.InvalidCloseReasonUtf8],
  ]);
});

test('§5.5: a close frame inside a fragmented message ends it and returns its buffer', () => {
  const { events, lender } = run([Buffer.concat([frame(2, 'part', false), close(1001)])]);
  assert.deepEqual(events, [['close', 1001, '']]);
  assert.equal(lender.out.size, 0);
});

test('§5.2: a partial frame borrows one buffer, which goes back when the frame completes', () => {
  const whole = frame(2, Buffer.alloc(3000, 7));
  const lender = run([whole.subarray(0, 1000)]).lender;
  assert.equal(lender.lent, 0, 'released by releaseProgress at the end of run');
  const done = run([whole.subarray(0, 1000), whole.subarray(1000)]);
  assert.deepEqual(done.events, [['binary', Buffer.alloc(3000, 7).toString('hex')]]);
  assert.equal(done.conn.progress, null, 'an idle connection keeps no progress object');
});

test('memory budget: a peer that needs a buffer the budget will not lend is failed with 1013', () => {
  const whole = frame(2, Buffer.alloc(3000, 7));
  const result = run([whole.subarray(0, 100)], {
    lender: Object.assign(Object.create(null) as object, {
      tryBorrow: () => null,
      tryGrow: () => null,
      release: () => {
        throw new Error('nothing was lent');
      },
      handOut: () => {
        throw new Error('nothing was lent');
      },
      handBack: () => {
        throw new Error('nothing was lent');
      },
    }),
  });
  assert.deepEqual(result.events, [['error', 'MemoryBudgetExceeded', ErrorKind.MemoryBudgetExceeded]]);
  assert.equal(closeCodeFor(ErrorKind.MemoryBudgetExceeded), 1013);
});

/** Feeds `whole` in reads of `step` bytes to one connection, watching the lender after each. */
function feedInReads(whole: Buffer, step: number, budget = Infinity) {
  const lender = new CountingLender();
  lender.budget = budget;
  const cfg = serverConfig(lender);
  const conn = new TestConn();
  let mostPerByte = 0;
  for (let at = 0; at < whole.length && conn.receiving; at += step) {
    const chunk = Buffer.from(whole.subarray(at, at + step)); // copied: unmasking is in place
    receive(conn, chunk, 0, chunk.length, cfg, sink);
    if (conn.progress !== null) mostPerByte = Math.max(mostPerByte, lender.lent / (at + chunk.length));
  }
  releaseProgress(conn, lender);
  return { events: conn.events, lender, mostPerByte };
}

test('§5.2: a 1 MiB frame read 64 KiB at a time is gathered in one buffer of its payload size, never grown', () => {
  const payload = Buffer.alloc(1 << 20, 0x5a);
  const { events, lender } = feedInReads(frame(2, payload), 64 * 1024);
  assert.equal(events.length, 1);
  assert.equal(events[0]![0], 'binary');
  assert.equal(events[0]![1].length, 2 * payload.length);
  assert.equal(lender.grows, 0, 'sized from the header once the first read showed it is real');
  assert.equal(lender.peak, 1 << 20, 'the payload alone: it fits the pool’s 1 MiB class');
  assert.equal(lender.lent, 0);
});

test('§5.2: a 16 MiB frame grows its buffer at most twice, and never holds more than 16× what arrived', () => {
  const payload = Buffer.alloc(16 << 20);
  for (let i = 0; i < payload.length; i += 4099) payload[i] = i & 0xff;
  const { events, lender, mostPerByte } = feedInReads(frame(2, payload), 64 * 1024);
  assert.deepEqual(
    events.map((e) => e[0]),
    ['binary'],
  );
  assert.ok(Buffer.from(String(events[0]![1]), 'hex').equals(payload), 'unmasked across every read and growth');
  assert.ok(lender.grows <= 2, `${lender.grows} grows`);
  assert.ok(mostPerByte <= 16, `${mostPerByte.toFixed(1)}× the bytes received`);
  assert.equal(lender.lent, 0);
});

test('memory budget: a header that claims 16 MiB and sends a byte reserves 64 KiB, not the claim', () => {
  const whole = frame(2, Buffer.alloc(16 << 20));
  const { lender, events } = feedInReads(whole.subarray(0, 15), 15);
  assert.deepEqual(events, []);
  assert.ok(lender.peak <= 64 * 1024, `peak ${lender.peak}`);
});

test('memory budget: when the budget refuses the reservation, what has arrived is still gathered', () => {
  const payload = Buffer.alloc(4 << 20, 1);
  // 1.5 MiB lends what each read needs but never the 16× reservation.
  const { events, lender } = feedInReads(frame(2, payload), 256 * 1024, 1.5 * (1 << 20));
  assert.deepEqual(events, [['error', 'MemoryBudgetExceeded', ErrorKind.MemoryBudgetExceeded]]);
  assert.ok(lender.peak > 256 * 1024 && lender.peak <= 1.5 * (1 << 20), `peak ${lender.peak}`);
  const fits = feedInReads(frame(2, Buffer.alloc(1 << 20, 1)), 16 * 1024, 1.5 * (1 << 20));
  assert.equal(fits.events.length, 1);
  assert.equal(fits.events[0]![0], 'binary');
});
