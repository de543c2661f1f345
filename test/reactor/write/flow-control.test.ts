import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../../src/protocol/opcode.js';
import { SendResult } from '../../../src/api/send-result.js';
import { CLEAN, closeOf, ECANCELED, fakeReactor, leftovers } from '../../support/fake-link.js';

/** maxBufferedBytes 4096: reading pauses once 1024 bytes are queued. */
const LIMITS = { maxBufferedBytes: 4096 };

/** An open connection whose next write the kernel does not take at all. */
function stalled(options = {}) {
  const h = fakeReactor({ ...LIMITS, ...options });
  const conn = h.link.open();
  const s = h.link.socket(conn);
  s.takes.push(0);
  return { h, conn, s };
}

test('a queue past a quarter of maxBufferedBytes pauses reading; the flush resumes it and drain runs once', () => {
  const { h, conn, s } = stalled();
  assert.equal(conn.send(Buffer.alloc(1000)), SendResult.Queued);
  assert.equal(s.pauses, 0, '1004 bytes queued: under the threshold');
  conn.send(Buffer.alloc(100));
  assert.equal(s.paused, true);
  conn.send(Buffer.alloc(100));
  assert.equal(s.pauses, 1, 'paused once, however much more is queued');
  assert.equal(h.reactor.snapshot().readPauses, 1);
  h.link.complete(conn);
  assert.equal(s.paused, false);
  assert.equal(s.resumes, 1);
  assert.deepEqual(h.seen.drains, [conn]);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a small queue drains without pausing anything', () => {
  const { h, conn, s } = stalled();
  conn.send(Buffer.alloc(500));
  h.link.complete(conn);
  assert.deepEqual([s.pauses, s.resumes, h.seen.drains.length], [0, 0, 1]);
});

test('an application pause during backpressure is not undone by the drain', () => {
  const { h, conn, s } = stalled();
  conn.send(Buffer.alloc(2000));
  conn.pause();
  assert.equal(s.pauses, 1, 'already stopped for backpressure: not paused twice');
  h.link.complete(conn);
  assert.equal(h.seen.drains.length, 1);
  assert.deepEqual([s.paused, s.resumes], [true, 0], 'still paused: the application asked');
  conn.resume();
  assert.deepEqual([s.paused, s.resumes], [false, 1]);
});

test('an application resume during backpressure waits for the drain', () => {
  const { h, conn, s } = stalled();
  conn.pause();
  assert.equal(s.pauses, 1);
  conn.send(Buffer.alloc(2000));
  assert.equal(s.pauses, 1, 'already paused by the application');
  assert.equal(h.reactor.snapshot().readPauses, 1);
  conn.resume();
  assert.deepEqual([s.paused, s.resumes], [true, 0], 'the queue is still high');
  h.link.complete(conn);
  assert.deepEqual([s.paused, s.resumes], [false, 1]);
});

test("backpressure 'close': a send past maxBufferedBytes fails the connection with 1008 after what is queued", () => {
  const { h, conn, s } = stalled({ maxBufferedBytes: 1024 });
  assert.equal(conn.send(Buffer.alloc(600)), SendResult.Queued);
  assert.equal(conn.send(Buffer.alloc(600)), SendResult.Dropped);
  assert.equal(h.reactor.snapshot().slowConsumersClosed, 1);
  assert.equal(s.shutdowns, 0, 'no FIN before the queued bytes and the Close are out');
  assert.equal(conn.send('more'), SendResult.Dropped);
  h.link.complete(conn);
  const frames = s.frames();
  assert.deepEqual(
    frames.map((f) => f.opcode),
    [Opcode.Binary, Opcode.Close],
  );
  assert.deepEqual(closeOf(frames[1]!), { code: 1008, reason: 'send buffer full' });
  assert.equal(s.shutdowns, 1);
  assert.equal(h.seen.drains.length, 0, 'an ending connection is not told to send more');
  h.reactor.onEnd(conn);
  assert.deepEqual(
    h.seen.closes.map((c) => [c.code, c.reason]),
    [[1008, 'send buffer full']],
  );
  assert.deepEqual(leftovers(h), CLEAN);
});

test("backpressure 'drop': a send past maxBufferedBytes is dropped and counted; control frames still go", () => {
  const { h, conn, s } = stalled({ maxBufferedBytes: 1024, backpressure: 'drop' });
  conn.send(Buffer.alloc(600));
  assert.equal(conn.send(Buffer.alloc(600)), SendResult.Dropped);
  assert.equal(conn.send(Buffer.alloc(600)), SendResult.Dropped);
  assert.equal(h.reactor.snapshot().sendsDropped, 2);
  assert.equal(conn.isOpen, true);
  assert.equal(conn.ping('still alive'), SendResult.Queued, 'control frames are never refused');
  h.link.complete(conn);
  assert.deepEqual(s.opcodes(), [Opcode.Binary, Opcode.Ping]);
  assert.equal(conn.send(Buffer.alloc(600)), SendResult.Written, 'drained: sends go again');
  assert.deepEqual(h.seen.closes, []);
});

test('at the memory budget, the connection with the largest queue is shed so that a sender can go on', () => {
  const h = fakeReactor({ maxMemoryBytes: 32 * 1024 });
  const [large, small, sender] = [h.link.open(), h.link.open(), h.link.open()];
  h.link.socket(large).takes.push(0);
  large.send(Buffer.alloc(100));
  large.send(Buffer.alloc(10_000)); // a 16 KiB outbox
  h.link.socket(small).takes.push(0);
  small.send(Buffer.alloc(100));
  // 18 KiB lent; framing 12 kB wants another 16 KiB.
  assert.equal(sender.send(Buffer.alloc(12_000)), SendResult.Written);
  const snap = h.reactor.snapshot();
  assert.deepEqual([snap.memoryRefusals, snap.memoryShed], [1, 1]);
  assert.deepEqual(
    h.seen.closes.map((c) => [c.conn, c.code]),
    [[large, 1006]],
  );
  assert.equal(h.link.socket(large).destroys, 1);
  assert.deepEqual([small.isOpen, sender.isOpen], [true, true]);
  assert.match(h.seen.logs.find((l) => l.level === 'warn')!.message, /largest queue \(10106 B\)/);
  h.link.complete(large, ECANCELED); // a destroyed socket's write completes cancelled
  h.link.complete(small);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('shedding never drops the connection that asked for the memory', () => {
  const h = fakeReactor({ maxMemoryBytes: 16 * 1024 });
  const conn = h.link.open();
  h.link.socket(conn).takes.push(0);
  conn.send(Buffer.alloc(100));
  assert.equal(conn.send(Buffer.alloc(12_000)), SendResult.Dropped, 'its outbox does not fit the budget');
  const snap = h.reactor.snapshot();
  assert.deepEqual([snap.memoryRefusals, snap.memoryShed], [1, 0]);
  assert.equal(conn.isOpen, true);
  h.link.complete(conn);
  assert.deepEqual(leftovers(h), CLEAN);
});
