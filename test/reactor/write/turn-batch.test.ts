import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloseCode } from '../../../src/protocol/close-code.js';
import { Opcode } from '../../../src/protocol/opcode.js';
import { State } from '../../../src/reactor/connection/connection-state.js';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import { ARENA_LIMIT } from '../../../src/reactor/write/turn-batch.js';
import type { Handlers } from '../../../src/api/handlers.js';
import type { EndpointOptions } from '../../../src/api/options.js';
import { SendResult } from '../../../src/api/send-result.js';
import {
  CLEAN,
  closeFrame as closeFrameOf,
  closeOf,
  fakeReactor,
  frame,
  leftovers,
  type FakeReactor,
} from '../../support/fake-link.js';
import { decompress } from '../../support/deflate.js';

/** The writes made after the 101, each as the texts of its frames. */
function writesAfterOpen(h: FakeReactor, conn: ConnectionRecord): string[][] {
  const socket = h.link.socket(conn);
  return socket.writes.slice(1).map((write) => framesOf(write).map((f) => f.payload.toString()));
}

/** Decodes a server's (unmasked) frames from one write. */
function framesOf(bytes: Buffer): { opcode: number; rsv: number; payload: Buffer }[] {
  const frames = [];
  let at = 0;
  while (at < bytes.length) {
    const b0 = bytes[at]!;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      start = at + 10;
    }
    frames.push({ opcode: b0 & 0x0f, rsv: (b0 >> 4) & 7, payload: bytes.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}

/** A room: every member subscribed to 'room'; a message `p:TEXT` publishes TEXT, `d:NAME:TEXT` sends TEXT to member NAME. */
function room(options: EndpointOptions = {}, extra: Handlers = {}) {
  const members = new Map<string, ConnectionRecord>();
  const results: number[] = [];
  const h = fakeReactor(options, {
    ...extra,
    message(conn, data) {
      const text = data.toString();
      for (const line of text.split('\n')) {
        if (line.startsWith('p:')) h.reactor.publish('room', line.slice(2), false);
        else if (line.startsWith('d:')) {
          const [, name, body] = line.split(':');
          results.push(members.get(name!)!.send(body!));
        } else if (line.startsWith('e:')) results.push(conn.send(line.slice(2)));
        else if (line.startsWith('q:')) results.push(members.get(line.slice(2))!.bufferedAmount);
      }
    },
  });
  const join = (name: string, extras = {}): ConnectionRecord => {
    const conn = h.link.open(extras);
    conn.subscribe('room');
    members.set(name, conn);
    return conn;
  };
  return { h, join, results };
}

test('bufferedAmount counts what the turn owes a connection until its write takes it', () => {
  const { h, join, results } = room();
  const [a, b] = [join('a'), join('b')];
  h.link.feed(a, frame(Opcode.Text, 'q:b\np:hello\nq:b\nd:b:12345\nq:b'));
  // 'hello' is a 7-byte frame, '12345' another 7: gathered for b, not yet written while a is read.
  assert.deepEqual(results, [0, 7, SendResult.Written, 14]);
  assert.equal(b.bufferedAmount, 0, "written at the turn's end");
  assert.deepEqual(writesAfterOpen(h, b), [['hello', '12345']]);
});

test('one read: each member gets what the read sent it in one write, publishes and direct sends in the order sent', () => {
  const { h, join, results } = room();
  const [a, b, c] = [join('a'), join('b'), join('c')];
  h.link.feed(a, frame(Opcode.Text, 'p:one\nd:b:to-b\np:two\ne:echo-a\nd:c:to-c'));
  assert.deepEqual(writesAfterOpen(h, a), [['one', 'two', 'echo-a']], 'the one read gets its echo in order too');
  assert.deepEqual(writesAfterOpen(h, b), [['one', 'to-b', 'two']]);
  assert.deepEqual(writesAfterOpen(h, c), [['one', 'two', 'to-c']]);
  assert.ok(
    results.every((r) => r === SendResult.Written),
    'gathered for the turn: Written, as a cork',
  );
  assert.deepEqual([h.reactor.writer.batchesOut, h.reactor.writer.batchWrites], [1, 3], 'one write per member');
  for (const conn of [a, b, c]) assert.equal(conn.flags & State.Batched, 0);
  assert.deepEqual(leftovers(h), CLEAN, 'the arena went back to the pool');
});

test("several reads in one turn: one write per member at the turn's end; a member read after it got publishes answers after them", () => {
  const { h, join } = room();
  const [a, b, c] = [join('a'), join('b'), join('c')];
  h.link.reads(() => {
    h.link.feed(a, frame(Opcode.Text, 'p:one\nd:b:to-b\np:two'));
    h.link.feed(c, frame(Opcode.Text, 'p:three\ne:echo-c'));
    h.link.feed(b, frame(Opcode.Text, 'd:a:to-a'));
  });
  assert.deepEqual(writesAfterOpen(h, a), [['one', 'two', 'three', 'to-a']]);
  assert.deepEqual(writesAfterOpen(h, b), [['one', 'to-b', 'two', 'three']]);
  assert.deepEqual(writesAfterOpen(h, c), [['one', 'two', 'three', 'echo-c']]);
  assert.deepEqual([h.reactor.writer.batchesOut, h.reactor.writer.batchWrites], [1, 3]);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('the connection being read: its echo (corked), then what the turn owes it, then its Close answer, in that order', () => {
  const { h, join } = room();
  const [a, b] = [join('a'), join('b')];
  h.link.feed(a, frame(Opcode.Text, 'e:echo\np:x'), closeFrameOf(1000));
  const frames = h.link.socket(a).frames();
  assert.deepEqual(
    frames.map((f) => (f.opcode === Opcode.Close ? `close ${closeOf(f).code}` : f.payload.toString())),
    ['echo', 'x', 'close 1000'],
  );
  assert.equal(h.link.socket(a).shutdowns, 1, 'the FIN after all of it');
  assert.deepEqual(writesAfterOpen(h, b), [['x']]);
  h.link.completeAll();
  assert.deepEqual(leftovers(h), CLEAN);
});

test('members given the same publishes are written the same bytes, from one arena, with no copy per member', () => {
  const { h, join } = room();
  const members = Array.from({ length: 20 }, (_, i) => join(`m${i}`));
  const before = h.reactor.snapshot().pool.borrows;
  h.link.reads(() => {
    for (let i = 0; i < 5; i++) h.link.feed(members[i]!, frame(Opcode.Text, `p:${i}-a\np:${i}-b`));
  });
  for (const conn of members)
    assert.deepEqual(writesAfterOpen(h, conn), [
      ['0-a', '0-b', '1-a', '1-b', '2-a', '2-b', '3-a', '3-b', '4-a', '4-b'],
    ]);
  // The arena: one borrow for the turn; framed into it once per publish, not one buffer per delivery.
  assert.equal(h.reactor.snapshot().pool.borrows - before, 1);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a member whose write the kernel does not take keeps the arena until it completes; others are unaffected', () => {
  const { h, join } = room();
  const [a, b, slow] = [join('a'), join('b'), join('slow')];
  h.link.socket(slow).takes.push(3);
  h.link.reads(() => h.link.feed(a, frame(Opcode.Text, 'p:x\np:y')));
  assert.deepEqual(writesAfterOpen(h, b), [['x', 'y']]);
  assert.ok(h.link.socket(slow).held !== null, 'the rest is in flight');
  assert.ok(h.reactor.snapshot().pool.lentBuffers > 0, 'the arena is held by the write in flight');
  h.link.complete(slow, 0);
  assert.deepEqual(
    framesOf(h.link.socket(slow).bytes().subarray(h.link.socket(slow).head().length)).map((f) => f.payload.toString()),
    ['x', 'y'],
  );
  assert.deepEqual(leftovers(h), CLEAN);
  void b;
});

for (const backpressure of ['drop', 'close'] as const) {
  test(`backpressure '${backpressure}' applies to each receiver inside a batch: the one over maxBufferedBytes, no other`, () => {
    const { h, join } = room({ maxBufferedBytes: 4096, backpressure });
    const [sender, fast, stuck] = [join('sender'), join('fast'), join('stuck')];
    // stuck has 3,000 bytes in flight already; the turn then owes it more than the bound allows.
    h.link.socket(stuck).takes.push(0);
    stuck.send(Buffer.alloc(3000));
    const body = 'x'.repeat(600);
    h.link.reads(() =>
      h.link.feed(sender, frame(Opcode.Text, Array.from({ length: 4 }, () => `p:${body}`).join('\n'))),
    );
    assert.equal(writesAfterOpen(h, fast)[0]!.length, 4, 'the others get every publish');
    if (backpressure === 'drop') {
      assert.equal(stuck.isOpen, true);
      assert.ok(h.reactor.snapshot().sendsDropped > 0, 'the excess was dropped and counted');
      assert.ok(stuck.bufferedAmount <= 4096);
    } else {
      assert.equal(h.seen.closes.length + (stuck.isOpen ? 0 : 1) > 0, true);
      assert.equal(stuck.isOpen, false, 'closed with 1008');
      assert.equal(fast.isOpen, true);
    }
    h.link.complete(stuck, 0);
    h.link.completeAll();
    if (backpressure === 'close') {
      const closes = h.link
        .socket(stuck)
        .frames()
        .filter((f) => f.opcode === Opcode.Close);
      assert.equal(closeOf(closes[0]!).code, CloseCode.PolicyViolation);
    }
  });
}

test('a receiver that closes (or is gone) in the middle of a turn is written nothing more, and nothing it was owed leaks', () => {
  const { h, join } = room({}, {});
  const [a, b, gone, leaving] = [join('a'), join('b'), join('gone'), join('leaving')];
  h.link.reads(() => {
    h.link.feed(a, frame(Opcode.Text, 'p:before'));
    gone.terminate();
    leaving.close(1000, 'bye');
    h.link.feed(b, frame(Opcode.Text, 'p:after'));
  });
  assert.deepEqual(writesAfterOpen(h, a), [['before', 'after']]);
  assert.equal(h.link.socket(gone).writes.length, 1, 'only the 101: the socket went before the turn ended');
  assert.equal(h.link.socket(gone).destroys, 1);
  const leavingFrames = h.link.socket(leaving).frames();
  assert.deepEqual(
    leavingFrames.map((f) => (f.opcode === Opcode.Close ? `close ${closeOf(f).code}` : f.payload.toString())),
    ['before', 'close 1000'],
    'what it was owed, then its Close; the publish after its Close is not for it',
  );
  h.link.feed(leaving, frame(Opcode.Close, Buffer.from([0x03, 0xe8])));
  assert.equal(
    h.link.socket(leaving).shutdowns + h.link.socket(leaving).destroys > 0,
    true,
    'the closing handshake ends it',
  );
  h.link.completeAll();
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a turn that gathers more than the arena holds is written early, in order, and goes on', () => {
  const { h, join } = room();
  const [a, b] = [join('a'), join('b')];
  const chunk = 'y'.repeat(30_000);
  const count = Math.ceil((2 * ARENA_LIMIT) / chunk.length);
  h.link.reads(() => {
    for (let i = 0; i < count; i++) h.link.feed(a, frame(Opcode.Text, `p:${i}${chunk}`));
  });
  const got = writesAfterOpen(h, b)
    .flat()
    .map((text) => Number.parseInt(text, 10));
  assert.deepEqual(
    got,
    Array.from({ length: count }, (_, i) => i),
  );
  assert.ok(writesAfterOpen(h, b).length >= 2, 'written in more than one write');
  assert.deepEqual(leftovers(h), CLEAN);
});

test('permessage-deflate: a publish is compressed once per shared window, and the batch carries the compressed frames', () => {
  const { h, join } = room({ deflate: 'shared', deflateThreshold: 0 });
  const plain = join('plain');
  const deflated = [join('d1', { extensions: 'permessage-deflate' }), join('d2', { extensions: 'permessage-deflate' })];
  h.link.reads(() => h.link.feed(plain, frame(Opcode.Text, 'p:hello hello hello\np:second')));
  assert.deepEqual(writesAfterOpen(h, plain), [['hello hello hello', 'second']]);
  for (const conn of deflated) {
    const writes = h.link.socket(conn).writes.slice(1);
    assert.equal(writes.length, 1, 'one write for the turn');
    const frames = framesOf(writes[0]!);
    assert.deepEqual(
      frames.map((f) => (f.rsv === 4 ? decompress(f.payload) : f.payload).toString()),
      ['hello hello hello', 'second'],
    );
    assert.equal(frames[0]!.rsv, 4, 'compressed');
  }
  const { messagesCompressed, declinedForBudget } = h.reactor.snapshot().deflate;
  assert.ok(
    messagesCompressed <= 2 && messagesCompressed >= 1,
    `${messagesCompressed}: once per publish at most, not per receiver`,
  );
  assert.equal(declinedForBudget, 0);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('outside a read (a timer, a promise) a send is written at once, as before', () => {
  const { h, join } = room();
  const [a, b] = [join('a'), join('b')];
  assert.equal(b.send('now'), SendResult.Written);
  assert.equal(h.link.socket(b).writes.length, 2, 'the 101 and this');
  h.reactor.publish('room', 'all', false);
  assert.equal(h.link.socket(a).writes.length, 2);
  assert.equal(h.reactor.writer.batchesOut, 0);
});
