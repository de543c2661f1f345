import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../../src/protocol/opcode.js';
import type { EndpointOptions } from '../../../src/api/options.js';
import { CLEAN, closeOf, fakeReactor, frame, leftovers, upgradeRequest } from '../../support/fake-link.js';

/**
 * A reactor whose one 1 s interval runs on node:test's mock timers, so a
 * test moves time a second at a time instead of waiting for it.
 */
function clocked(t: TestContext, options: EndpointOptions) {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const h = fakeReactor(options);
  h.reactor.start();
  t.after(() => h.reactor.stop());
  const seconds = (n: number): void => {
    for (let i = 0; i < n; i++) t.mock.timers.tick(1000);
  };
  return { ...h, seconds };
}

test('a connection that has not upgraded by handshakeTimeoutMs is dropped, however it trickles', (t) => {
  const h = clocked(t, { handshakeTimeoutMs: 3000 });
  const conn = h.link.connect();
  const request = upgradeRequest();
  h.seconds(1);
  h.link.feed(conn, request.slice(0, 20));
  h.seconds(1);
  h.link.feed(conn, request.slice(20, 40));
  assert.equal(h.link.socket(conn).destroys, 0);
  h.seconds(1);
  assert.equal(h.link.socket(conn).destroys, 1);
  assert.equal(h.reactor.snapshot().handshakeTimeouts, 1);
  assert.equal(h.reactor.connectionCount, 0);
  assert.deepEqual(h.seen.closes, [], 'never opened: no close handler');
  assert.deepEqual(leftovers(h), CLEAN, 'the gathered head went back');
});

test('an upgraded connection is not held to the handshake deadline', (t) => {
  const h = clocked(t, { handshakeTimeoutMs: 2000 });
  const conn = h.link.open();
  h.seconds(10);
  assert.equal(conn.isOpen, true);
  assert.equal(h.link.socket(conn).writes.length, 1, 'only the 101: no heartbeat is on');
});

test('idleTimeoutMs of silence: Close 1001 "idle timeout"; anything heard pushes it out', (t) => {
  const h = clocked(t, { idleTimeoutMs: 3000, closeTimeoutMs: 2000 });
  const conn = h.link.open();
  const s = h.link.socket(conn);
  h.seconds(2);
  h.link.feed(conn, frame(Opcode.Pong, ''));
  h.seconds(2);
  assert.deepEqual(s.opcodes(), [], 'heard from 2 s ago');
  h.seconds(1);
  assert.deepEqual(s.opcodes(), [Opcode.Close]);
  assert.deepEqual(closeOf(s.frames()[0]!), { code: 1001, reason: 'idle timeout' });
  assert.equal(h.reactor.snapshot().idleTimeouts, 1);
  // The peer does not answer our Close either: dropped after closeTimeoutMs, without a closing
  // handshake, so the close handler hears 1006 (§7.1.5), not the code we sent.
  h.seconds(2);
  assert.equal(s.destroys, 1);
  assert.deepEqual(
    h.seen.closes.map((c) => [c.code, c.reason]),
    [[1006, '']],
  );
});

test('pingIntervalMs alone: a Ping after each pingIntervalMs of silence, and the connection stays', (t) => {
  const h = clocked(t, { pingIntervalMs: 2000 });
  const conn = h.link.open();
  const s = h.link.socket(conn);
  h.seconds(1);
  assert.deepEqual(s.opcodes(), []);
  h.seconds(1);
  assert.deepEqual(s.opcodes(), [Opcode.Ping]);
  h.seconds(2);
  assert.deepEqual(s.opcodes(), [Opcode.Ping, Opcode.Ping], 'no idle timeout: it just asks again');
  h.seconds(1);
  h.link.feed(conn, frame(Opcode.Text, 'here'));
  h.seconds(1);
  assert.equal(s.opcodes().length, 2, 'the message pushed the next Ping out');
  h.seconds(1);
  assert.equal(s.opcodes().length, 3);
  assert.equal(h.reactor.snapshot().pingsSent, 3);
  assert.equal(conn.isOpen, true);
});

test('with idleTimeoutMs, an answered Ping keeps the connection; an unanswered one drops it without a closing handshake', (t) => {
  const h = clocked(t, { pingIntervalMs: 2000, idleTimeoutMs: 5000 });
  const conn = h.link.open();
  const s = h.link.socket(conn);
  h.seconds(2);
  assert.deepEqual(s.opcodes(), [Opcode.Ping]);
  h.link.feed(conn, frame(Opcode.Pong, ''));
  h.seconds(4);
  assert.deepEqual(
    s.opcodes(),
    [Opcode.Ping, Opcode.Ping],
    'answered: asked again after the next silence, not dropped',
  );
  assert.equal(s.destroys, 0);
  h.seconds(1);
  assert.equal(s.destroys, 1, 'idleTimeoutMs after the last sign of life');
  assert.deepEqual(s.opcodes(), [Opcode.Ping, Opcode.Ping], 'no Close to a dead peer');
  assert.deepEqual(
    h.seen.closes.map((c) => c.code),
    [1006],
  );
  assert.equal(h.reactor.snapshot().idleTimeouts, 1);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('the heartbeat Pings of one tick share one pooled frame; a write the kernel holds keeps it until done', (t) => {
  const h = clocked(t, { pingIntervalMs: 2000, idleTimeoutMs: 5000 });
  const conns = [h.link.open(), h.link.open(), h.link.open()];
  h.link.socket(conns[1]!).takes.push(1); // the kernel takes 1 byte of that Ping now, the other later
  const borrows = h.reactor.snapshot().pool.borrows;
  h.seconds(2);
  for (const conn of conns) assert.deepEqual(h.link.socket(conn).opcodes(), [Opcode.Ping]);
  // Framed on its own, each Ping was a pooled buffer (and a view of it) per connection.
  assert.equal(h.reactor.snapshot().pool.borrows - borrows, 1, 'one frame for the three');
  assert.equal(h.reactor.snapshot().pingsSent, 3);
  assert.equal(h.reactor.snapshot().pool.lentBuffers, 1, 'held by the write in flight');
  h.link.complete(conns[1]!);
  for (const conn of conns) h.link.feed(conn, frame(Opcode.Pong, ''));
  assert.deepEqual(leftovers(h), CLEAN);
  h.seconds(2);
  for (const conn of conns) assert.deepEqual(h.link.socket(conn).opcodes(), [Opcode.Ping, Opcode.Ping]);
  assert.equal(h.reactor.snapshot().pool.borrows - borrows, 2, 'and one the next tick');
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a peer that never answers our Close is dropped after closeTimeoutMs', (t) => {
  const h = clocked(t, { closeTimeoutMs: 2000 });
  const conn = h.link.open();
  const s = h.link.socket(conn);
  conn.close(1000, 'bye');
  h.seconds(1);
  h.link.feed(conn, frame(Opcode.Text, 'not a Close'));
  assert.equal(s.destroys, 0);
  h.seconds(1);
  assert.equal(s.destroys, 1, 'data from the peer does not extend the close deadline');
  // No Close came back: no closing handshake, so 1006 (§7.1.5), as for any connection lost.
  assert.deepEqual(
    h.seen.closes.map((c) => [c.code, c.reason]),
    [[1006, '']],
  );
  assert.equal(h.reactor.snapshot().closeTimeouts, 1);
  assert.equal(h.reactor.connectionCount, 0);
});

test('a refused handshake waits closeTimeoutMs for the peer to hang up, then drops it', (t) => {
  const h = clocked(t, { closeTimeoutMs: 2000 });
  const conn = h.link.connect();
  h.link.feed(conn, 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n');
  const s = h.link.socket(conn);
  assert.match(s.head(), /^HTTP\/1\.1 400 /);
  assert.equal(s.shutdowns, 1);
  h.seconds(2);
  assert.equal(s.destroys, 1);
  assert.deepEqual(leftovers(h), CLEAN);
});

const SLOW = { slowMessageTimeoutMs: 2000, minMessageRate: 1024 };

test('a message trickling in below minMessageRate is closed with 1008 once the grace is over', (t) => {
  const h = clocked(t, SLOW);
  const conn = h.link.open();
  const s = h.link.socket(conn);
  const big = frame(Opcode.Binary, Buffer.alloc(10_000));
  h.link.feed(conn, big.subarray(0, 20));
  h.seconds(1);
  h.link.feed(conn, big.subarray(20, 40)); // a byte now and then is no rate
  assert.deepEqual(s.opcodes(), []);
  h.seconds(1);
  assert.deepEqual(s.opcodes(), [Opcode.Close]);
  assert.deepEqual(closeOf(s.frames()[0]!), { code: 1008, reason: 'message arriving too slowly' });
  assert.equal(h.reactor.snapshot().slowMessagesClosed, 1);
  h.reactor.onEnd(conn);
  assert.deepEqual(leftovers(h), CLEAN, "the partial frame's buffer went back");
});

test('a long message arriving at minMessageRate or faster is delivered', (t) => {
  const h = clocked(t, SLOW);
  const conn = h.link.open();
  const big = frame(Opcode.Binary, Buffer.alloc(10_000, 5));
  for (let at = 0; at < big.length; at += 3000) {
    h.link.feed(conn, big.subarray(at, at + 3000));
    h.seconds(1);
  }
  h.seconds(3);
  assert.deepEqual(h.link.socket(conn).opcodes(), []);
  assert.deepEqual(
    h.seen.messages.map((m) => m.data.length),
    [10_000],
  );
  assert.equal(h.reactor.snapshot().slowMessagesClosed, 0);
});
