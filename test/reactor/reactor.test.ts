import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../src/protocol/opcode.js';
import { SendResult } from '../../src/api/send-result.js';
import { closeFrame, closeOf, fakeReactor, frame, settled } from '../support/fake-link.js';
import { echo } from '../support/servers.js';

test('admit: within maxConnections (handshaking ones count) and under 90% of the memory budget', () => {
  const h = fakeReactor({ maxConnections: 2 });
  assert.equal(h.reactor.admit(), true);
  h.link.open();
  h.link.connect();
  assert.equal(h.reactor.admit(), false);
  assert.equal(h.reactor.snapshot().connectionsRefused, 1);
  assert.match(h.reactor.refusal, /^HTTP\/1\.1 503 [^]*\r\nRetry-After: 1\r\n/);

  const m = fakeReactor({ maxMemoryBytes: 36 * 1024 });
  const conn = m.link.open();
  m.link.socket(conn).takes.push(0);
  conn.send(Buffer.alloc(100));
  assert.equal(m.reactor.admit(), true);
  conn.send(Buffer.alloc(20_000)); // a 32 KiB outbox: 33 of 36 KiB lent
  assert.equal(m.reactor.admit(), false);
});

test('shutdown: Close 1001 to every open connection, handshaking ones dropped; resolves as soon as all have closed', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] }); // the deadline never passes unless ticked
  const h = fakeReactor();
  const open = [h.link.open(), h.link.open()];
  const handshaking = h.link.connect();
  let result: unknown;
  void h.reactor.shutdown(10_000).then((r) => (result = r));
  assert.equal(h.link.socket(handshaking).destroys, 1);
  for (const conn of open) {
    assert.deepEqual(closeOf(h.link.socket(conn).frames()[0]!), { code: 1001, reason: 'server shutting down' });
    h.link.feed(conn, closeFrame(1001));
    h.reactor.onEnd(conn);
  }
  await settled();
  assert.deepEqual(result, { closed: 3, terminated: 0 });
});

test('shutdown: connections that do not close in time are dropped when it gives up', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = fakeReactor();
  const [polite, silent] = [h.link.open(), h.link.open()];
  let result: unknown;
  void h.reactor.shutdown(2000, 4000, 'maintenance').then((r) => (result = r));
  h.link.feed(polite, closeFrame(4000));
  h.reactor.onEnd(polite);
  await settled();
  assert.equal(result, undefined, 'still waiting for the silent one');
  t.mock.timers.tick(2000);
  await settled();
  assert.deepEqual(result, { closed: 1, terminated: 1 });
  assert.equal(h.link.socket(silent).destroys, 1);
  assert.deepEqual(
    h.seen.closes.map((c) => [c.conn, c.code, c.reason]),
    [
      [polite, 4000, ''],
      [silent, 1006, ''], // our Close went unanswered: no closing handshake (§7.1.5)
    ],
  );
});

test('calls that break the rules throw and change nothing; sends to a connection not open are dropped', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  assert.throws(() => conn.ping(Buffer.alloc(126)), RangeError);
  assert.throws(() => conn.close(1006), RangeError); // for reporting only, never on the wire
  assert.throws(() => conn.close(1000, 'x'.repeat(124)), RangeError);
  assert.throws(() => conn.subscribe(7 as unknown as string), TypeError);
  assert.equal(conn.isOpen, true);
  assert.equal(h.link.socket(conn).writes.length, 1, 'only the 101');
  const handshaking = h.link.connect();
  assert.equal(handshaking.send('early'), SendResult.Dropped);
  assert.equal(handshaking.pong(), SendResult.Dropped);
  assert.equal(h.link.socket(handshaking).writes.length, 0);
  assert.equal(h.reactor.snapshot().messagesOut, 0);
});

test('at logLevel debug every frame in and out is logged with the peer', () => {
  const h = fakeReactor({ logLevel: 'debug' }, echo);
  const conn = h.link.open();
  h.link.feed(conn, Buffer.concat([frame(Opcode.Text, 'hi'), frame(Opcode.Ping, ''), frame(Opcode.Pong, '')]));
  h.reactor.broadcast('all', false);
  h.link.feed(conn, closeFrame(1000));
  const lines = h.seen.logs.filter((l) => l.level === 'debug').map((l) => l.message);
  for (const line of [
    'in text 2 B from 203.0.113.7:40001',
    'out text 2 B to 203.0.113.7:40001',
    'in ping 0 B from 203.0.113.7:40001',
    'out pong 0 B to 203.0.113.7:40001',
    'in pong 0 B from 203.0.113.7:40001',
    'out text message to 1 connections',
    'in close 1000 "" from 203.0.113.7:40001',
    'out close 1000 "" to 203.0.113.7:40001',
  ]) {
    assert.ok(lines.includes(line), `${line} in ${JSON.stringify(lines)}`);
  }
});
