import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../../src/protocol/opcode.js';
import { SendResult } from '../../../src/api/send-result.js';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import { CLEAN, ECONNRESET, EPIPE, fakeReactor, frame, leftovers, upgradeRequest } from '../../support/fake-link.js';
import { echo } from '../../support/servers.js';

test('everything sent while one read is handled goes out in one write', () => {
  const h = fakeReactor({}, echo);
  const conn = h.link.open();
  const s = h.link.socket(conn);
  h.link.feed(
    conn,
    Buffer.concat([
      frame(Opcode.Text, 'a'),
      frame(Opcode.Text, 'b'),
      frame(Opcode.Ping, 'p'),
      frame(Opcode.Binary, Buffer.from([7])),
    ]),
  );
  assert.equal(s.writes.length, 2, 'the 101, then one write for the whole read');
  assert.deepEqual(
    s.frames().map((f) => [f.opcode, f.payload.toString('latin1')]),
    [
      [Opcode.Text, 'a'],
      [Opcode.Text, 'b'],
      [Opcode.Pong, 'p'],
      [Opcode.Binary, '\x07'],
    ],
  );
  assert.deepEqual(leftovers(h), CLEAN, 'the cork buffer went back');
});

test('the cork limit splits a big burst, in order, and a frame larger than it is written on its own', () => {
  const big = (fill: number, n: number) => Buffer.alloc(n, fill);
  const h = fakeReactor(
    {},
    {
      message(conn, data) {
        if (data.toString() === 'burst') for (const fill of [1, 2, 3]) conn.send(big(fill, 30_000));
        else for (const payload of ['x', big(4, 70_000), 'y']) conn.send(payload);
      },
    },
  );
  const conn = h.link.open();
  const s = h.link.socket(conn);
  h.link.feed(conn, frame(Opcode.Text, 'burst'));
  // Two 30 kB frames fit in the 64 KiB cork; the third starts a second write.
  assert.deepEqual(
    s.writes.slice(1).map((w) => w.length),
    [2 * 30_004, 30_004],
  );
  h.link.feed(conn, frame(Opcode.Text, 'huge'));
  assert.deepEqual(
    s.writes.slice(3).map((w) => w.length),
    [3, 70_010, 3],
  );
  assert.deepEqual(
    s.frames().map((f) => f.payload[0]),
    [1, 2, 3, 0x78, 4, 0x79],
  );
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a partial write: the rest waits in flight, later sends gather in the outbox, one write on completion', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  const s = h.link.socket(conn);
  s.takes.push(10);
  assert.equal(conn.send(Buffer.alloc(100, 1)), SendResult.Queued, 'the kernel took 10 of 102 bytes');
  assert.equal(conn.bufferedAmount, 92);
  assert.equal(conn.send(Buffer.alloc(50, 2)), SendResult.Queued);
  assert.equal(conn.send('three'), SendResult.Queued);
  assert.equal(conn.bufferedAmount, 92 + 52 + 7);
  assert.equal(s.writes.length, 2, 'nothing written while the first write is in flight');
  let snap = h.reactor.snapshot();
  assert.equal(snap.writingNow, 1);
  assert.equal(snap.bufferedBytes, 92 + 52 + 7);
  assert.equal(snap.pool.lentBuffers, 2, 'the in-flight buffer and the outbox');
  assert.equal(snap.bytesOut, s.bytes().length - 92, 'bytes the kernel has not taken are not counted out');

  h.link.complete(conn);
  assert.equal(s.writes.length, 3, 'the outbox went out as one write');
  assert.equal(s.writes[2]!.length, 52 + 7);
  assert.equal(conn.bufferedAmount, 0);
  assert.deepEqual(
    s.frames().map((f) => [f.opcode, f.payload.length]),
    [
      [Opcode.Binary, 100],
      [Opcode.Binary, 50],
      [Opcode.Text, 5],
    ],
  );
  snap = h.reactor.snapshot();
  assert.equal(snap.writingNow, 0);
  assert.equal(snap.bytesOut, s.bytes().length);
  assert.equal(h.seen.drains.length, 1);
  assert.equal(conn.extras, null, 'an idle connection holds no extras again');
  assert.deepEqual(leftovers(h), CLEAN);
});

test('an outbox written partially stays the one write in flight; sends meanwhile start a new outbox', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  const s = h.link.socket(conn);
  s.takes.push(0, 5);
  conn.send('first');
  conn.send('second');
  h.link.complete(conn); // the outbox ('second') is written; the kernel takes 5 of its 8 bytes
  assert.equal(conn.bufferedAmount, 3);
  assert.equal(h.seen.drains.length, 0, 'not drained while the outbox write is in flight');
  assert.equal(conn.send('third'), SendResult.Queued);
  assert.equal(conn.bufferedAmount, 3 + 7);
  h.link.complete(conn);
  assert.equal(conn.bufferedAmount, 0);
  assert.deepEqual(
    s.frames().map((f) => f.payload.toString()),
    ['first', 'second', 'third'],
  );
  assert.equal(h.seen.drains.length, 1);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a failed write ends the connection with 1006', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  const s = h.link.socket(conn);
  s.failWith = EPIPE;
  assert.equal(conn.send('lost'), SendResult.Dropped);
  assert.deepEqual(
    h.seen.closes.map((c) => [c.code, c.reason]),
    [[1006, '']],
  );
  assert.equal(s.destroys, 1);
  assert.equal(h.reactor.connectionCount, 0);
  assert.equal(conn.send('after'), SendResult.Dropped);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a cork flush that fails ends the connection, and nothing more is written to it', () => {
  const results: number[] = [];
  const h = fakeReactor(
    {},
    {
      message(conn, data) {
        if (data.toString() === 'burst') for (let i = 0; i < 3; i++) results.push(conn.send(Buffer.alloc(30_000)));
        else {
          conn.send('gathered');
          h.reactor.broadcast('to all', false);
        }
      },
    },
  );
  const [bursting, broadcasting, bystander] = [h.link.open(), h.link.open(), h.link.open()];
  // The third send flushes the first two, gathered in the cork: that write fails.
  h.link.socket(bursting).failWith = EPIPE;
  h.link.feed(bursting, frame(Opcode.Text, 'burst'));
  assert.deepEqual(results, [SendResult.Written, SendResult.Written, SendResult.Dropped]);
  // A broadcast flushes what its sender gathered first: that write fails.
  h.link.socket(broadcasting).failWith = EPIPE;
  h.link.feed(broadcasting, frame(Opcode.Text, 'broadcast'));
  assert.deepEqual(
    h.seen.closes.map((c) => [c.conn, c.code]),
    [
      [bursting, 1006],
      [broadcasting, 1006],
    ],
  );
  assert.deepEqual(
    h.link
      .socket(bystander)
      .frames()
      .map((f) => f.payload.toString()),
    ['to all'],
  );
  assert.deepEqual(leftovers(h), CLEAN, 'no write after destroy');
});

test('a receiver whose write fails during a broadcast makes it skip no other', () => {
  const h = fakeReactor();
  const conns = [h.link.open(), h.link.open(), h.link.open(), h.link.open()];
  h.link.socket(conns[1]!).failWith = EPIPE;
  h.reactor.broadcast('to all', false);
  assert.deepEqual(
    h.seen.closes.map((c) => c.conn),
    [conns[1]],
  );
  for (const conn of [conns[0]!, conns[2]!, conns[3]!])
    assert.deepEqual(
      h.link
        .socket(conn)
        .frames()
        .map((f) => f.payload.toString()),
      ['to all'],
    );
});

test('a write that fails when it completes ends the connection and frees its outbox', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  h.link.socket(conn).takes.push(0);
  conn.send('in flight');
  conn.send('queued');
  h.link.complete(conn, ECONNRESET);
  assert.deepEqual(
    h.seen.closes.map((c) => c.code),
    [1006],
  );
  assert.equal(h.reactor.connectionCount, 0);
  assert.equal(h.seen.drains.length, 0);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('broadcast frames once and writes the same bytes to every open connection', () => {
  const h = fakeReactor();
  const conns = [h.link.open(), h.link.open(), h.link.open()];
  const handshaking = h.link.connect(); // not open: not a receiver
  const borrows = h.reactor.snapshot().pool.borrows;
  assert.equal(h.reactor.broadcast('to all', false), 3);
  assert.equal(h.reactor.snapshot().pool.borrows - borrows, 1, 'one buffer framed for everyone');
  const sent = conns.map((c) => h.link.socket(c).writes.at(-1)!);
  for (const bytes of sent) assert.deepEqual(bytes, sent[0]);
  assert.deepEqual(
    h.link
      .socket(conns[0]!)
      .frames()
      .map((f) => f.payload.toString()),
    ['to all'],
  );
  assert.equal(h.link.socket(handshaking).writes.length, 0);
  assert.deepEqual(leftovers(h), CLEAN);
});

test("a shared frame: copied into a busy receiver's outbox, held by a partial write until it completes", () => {
  const h = fakeReactor();
  const [idle, busy, slow] = [h.link.open(), h.link.open(), h.link.open()];
  h.link.socket(busy).takes.push(0);
  busy.send('before');
  h.link.socket(slow).takes.push(3);
  assert.equal(h.reactor.broadcast('news', false), 3);
  assert.equal(busy.bufferedAmount, 8 + 6, 'busy: its own frame in flight, the shared one copied into its outbox');
  assert.equal(slow.bufferedAmount, 3, 'slow: the kernel took 3 of the 6 bytes');
  // busy's in-flight buffer and outbox, and the one shared frame that slow's write holds.
  assert.equal(h.reactor.snapshot().pool.lentBuffers, 3);
  h.link.complete(busy);
  assert.equal(h.reactor.snapshot().pool.lentBuffers, 1, 'the shared frame, still in flight on slow');
  h.link.complete(slow); // FakeLink checks the held bytes were not reused before this
  assert.deepEqual(leftovers(h), CLEAN);
  for (const conn of [idle, slow])
    assert.deepEqual(
      h.link
        .socket(conn)
        .frames()
        .map((f) => f.payload.toString()),
      ['news'],
    );
  assert.deepEqual(
    h.link
      .socket(busy)
      .frames()
      .map((f) => f.payload.toString()),
    ['before', 'news'],
  );
  assert.equal(h.reactor.snapshot().framesOut, 4);
});

test('publish reaches only the subscribers of its topic', () => {
  const h = fakeReactor();
  const [a, b, c] = [h.link.open(), h.link.open(), h.link.open()];
  a.subscribe('t');
  c.subscribe('t');
  b.subscribe('other');
  assert.equal(h.reactor.publish('t', Buffer.from([1, 2]), true), 2);
  assert.equal(h.reactor.publish('nobody', 'x', false), 0);
  assert.deepEqual(
    [a, b, c].map((conn) => h.link.socket(conn).opcodes()),
    [[Opcode.Binary], [], [Opcode.Binary]],
  );
  c.terminate();
  assert.equal(h.reactor.publish('t', 'again', false), 1, 'a closed connection left its topics');
});

test('a transport that writes heads from their string: the 101 takes no pooled buffer, and one the kernel did not take whole holds what follows until it completes', () => {
  const h = fakeReactor({}, { open: (conn) => void conn.send('first') });
  const link = h.link as typeof h.link & { writeLatin1(conn: ConnectionRecord, head: string): number };
  const heads: string[] = [];
  link.writeLatin1 = (conn, head) => {
    heads.push(head);
    const s = h.link.socket(conn);
    const copy = Buffer.from(head, 'latin1');
    s.writes.push(copy);
    s.held = { buf: copy, length: copy.length, copy }; // the transport's copy: 10 bytes taken, the rest pending
    return head.length - 10;
  };
  const borrows = h.reactor.snapshot().pool.borrows;
  const conn = h.link.connect();
  h.link.feed(conn, upgradeRequest());
  assert.equal(heads.length, 1);
  assert.match(heads[0]!, /^HTTP\/1\.1 101 /);
  assert.deepEqual(h.seen.opens, [conn]);
  const s = h.link.socket(conn);
  assert.equal(s.writes.length, 1, "the open handler's message waits behind the 101");
  h.link.complete(conn);
  assert.deepEqual(
    s.frames().map((f) => f.payload.toString()),
    ['first'],
  );
  assert.equal(h.reactor.snapshot().pool.borrows - borrows, 1, 'one pooled buffer: the frame, not the 101');
  assert.deepEqual(h.link.violations, []);
  assert.deepEqual(leftovers(h), CLEAN);
});
