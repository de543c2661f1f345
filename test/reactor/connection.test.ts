import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../src/protocol/opcode.js';
import { fakeReactor, frame } from '../support/fake-link.js';

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

test('remoteAddress comes from the link; isOpen and receiving follow the closing handshake', () => {
  const h = fakeReactor();
  const handshaking = h.link.connect();
  assert.deepEqual([handshaking.isOpen, handshaking.receiving], [false, true]);
  const conn = h.link.open();
  h.link.address = '[2001:db8::1]:443';
  assert.equal(conn.remoteAddress, '[2001:db8::1]:443');
  conn.close();
  assert.deepEqual([conn.isOpen, conn.receiving], [false, true], 'after our Close the peer\'s is still read');
  h.link.feed(conn, frame(Opcode.Close, Buffer.alloc(0)));
  assert.equal(conn.receiving, false);
});

test('data returned by the upgrade hook is the connection\'s', () => {
  const h = fakeReactor({}, { upgrade: () => ({ data: { room: 'lobby' } }) });
  assert.deepEqual(h.link.open().data, { room: 'lobby' });
});
