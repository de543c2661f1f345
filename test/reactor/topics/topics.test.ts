import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeReactor } from '../../support/fake-link.js';

test('only an open connection subscribes; subscribing twice is once', () => {
  const { reactor, link } = fakeReactor();
  const handshaking = link.connect();
  handshaking.subscribe('news');
  assert.equal(handshaking.isSubscribed('news'), false);
  const conn = link.open();
  conn.subscribe('news');
  conn.subscribe('news');
  assert.equal(conn.isSubscribed('news'), true);
  assert.equal(reactor.topics.count('news'), 1);
  conn.close();
  conn.subscribe('later');
  assert.equal(conn.isSubscribed('later'), false, 'closing: not open any more');
});

test('unsubscribing the last topic lets the connection drop its extras; an empty topic is forgotten', () => {
  const { reactor, link } = fakeReactor();
  const [a, b] = [link.open(), link.open()];
  a.subscribe('t');
  b.subscribe('t');
  a.unsubscribe('never');
  a.unsubscribe('t');
  assert.equal(a.extras!.topics, null);
  assert.deepEqual([reactor.topics.count('t'), reactor.topics.size], [1, 1]);
  b.unsubscribe('t');
  assert.deepEqual([reactor.topics.get('t'), reactor.topics.size], [undefined, 0]);
  assert.equal(reactor.snapshot().topics, 0);
});

test('a connection that ends leaves all its topics', () => {
  const { reactor, link } = fakeReactor();
  const [a, b] = [link.open(), link.open()];
  for (const topic of ['x', 'y', 'z']) a.subscribe(topic);
  b.subscribe('y');
  a.terminate();
  assert.deepEqual([reactor.topics.size, reactor.topics.count('y')], [1, 1]);
  assert.equal(reactor.publish('x', 'gone', false), 0);
});
