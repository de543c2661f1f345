import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../../src/protocol/opcode.js';
import { fakeReactor, frame, upgradeRequest } from '../../support/fake-link.js';

test('an idle open connection holds no extras; what it needs for a while comes and goes', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  assert.equal(conn.extras, null, 'the handshake left nothing behind');
  assert.deepEqual([conn.isOpen, conn.bufferedAmount, conn.protocol, conn.progress], [true, 0, '', null]);
  const half = frame(Opcode.Binary, Buffer.alloc(200));
  h.link.feed(conn, half.subarray(0, 100));
  assert.notEqual(conn.progress, null, 'a partial frame');
  h.link.feed(conn, half.subarray(100));
  assert.equal(conn.progress, null);
});

/** What an idle connection costs is these seven fields and nothing else (the 80 B of docs/benchmarks.md). */
const FIELDS = ['handle', 'flags', 'index', 'deadline', 'wheelTick', 'extras', 'data'];

test('an open connection has exactly its seven fields, also after plain HTTP requests on it before the upgrade', () => {
  const h = fakeReactor({ healthPath: '/healthz', metricsPath: '/metrics' }, { request: () => ({ body: 'page' }) });
  assert.deepEqual(Object.getOwnPropertyNames(h.link.open()), FIELDS);
  const conn = h.link.connect();
  h.link.feed(conn, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(
    h.link.socket(conn).bytes().toString('latin1'),
    /^HTTP\/1\.1 200 [^]*\r\n\r\nok\n[^]*\r\n\r\npage$/,
    'both answered, kept alive',
  );
  h.link.feed(conn, upgradeRequest());
  assert.match(h.link.socket(conn).bytes().toString('latin1'), /HTTP\/1\.1 101 /);
  assert.deepEqual(Object.getOwnPropertyNames(conn), FIELDS, 'no field for the HTTP it served');
  assert.equal(conn.extras, null, 'and nothing left in the extras');
});

test('remoteAddress comes from the link; isOpen and receiving follow the closing handshake', () => {
  const h = fakeReactor();
  const handshaking = h.link.connect();
  assert.deepEqual([handshaking.isOpen, handshaking.receiving], [false, true]);
  const conn = h.link.open();
  h.link.address = '[2001:db8::1]:443';
  assert.equal(conn.remoteAddress, '[2001:db8::1]:443');
  conn.close();
  assert.deepEqual([conn.isOpen, conn.receiving], [false, true], "after our Close the peer's is still read");
  h.link.feed(conn, frame(Opcode.Close, Buffer.alloc(0)));
  assert.equal(conn.receiving, false);
});

test("data returned by the upgrade hook is the connection's", () => {
  const h = fakeReactor({}, { upgrade: () => ({ data: { room: 'lobby' } }) });
  assert.deepEqual(h.link.open().data, { room: 'lobby' });
});
