import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRequest } from '../../../src/api/request-handler.js';
import { CLEAN, fakeReactor, leftovers } from '../../support/fake-link.js';

/** maxBufferedBytes 4096: reading stops once 1024 bytes of answers are unsent. */
const LIMITS = { maxBufferedBytes: 4096 };

function server(bodyBytes: number) {
  return fakeReactor(LIMITS, {
    request: (request: HttpRequest) => ({ body: `${request.url} `.padEnd(bodyBytes, '.') }),
  });
}

const pipelined = (count: number): string =>
  Array.from({ length: count }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');

/** The request paths the answers written so far carry, in order. */
function answered(bytes: Buffer): string[] {
  return [...bytes.toString('latin1').matchAll(/\r\n\r\n(\/\d+) /g)].map((m) => m[1]!);
}

test('answers the peer does not take stop the reading; what it pipelined is read as they drain, in order', () => {
  const h = server(1500);
  const conn = h.link.connect();
  const s = h.link.socket(conn);
  s.takes.push(0); // the kernel takes nothing of the first answer
  h.link.feed(conn, pipelined(10));
  assert.equal(s.paused, true, '1.5 kB unsent: reading stopped');
  assert.deepEqual(answered(s.bytes()), ['/0'], 'nothing more is parsed while the answer is unsent');
  assert.equal(h.reactor.snapshot().httpRequests, 1);
  h.link.complete(conn);
  assert.deepEqual(
    answered(s.bytes()),
    Array.from({ length: 10 }, (_, i) => `/${i}`),
  );
  assert.equal(s.paused, false);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('an answer that would take the queue past maxBufferedBytes closes the connection: it cannot be dropped', () => {
  const h = server(4000);
  const conn = h.link.connect();
  const s = h.link.socket(conn);
  s.takes.push(4000); // the kernel takes all but the last hundred bytes or so of the first answer
  h.link.feed(conn, pipelined(2));
  assert.deepEqual(answered(s.bytes()), ['/0']);
  assert.equal(s.destroys, 1, 'closed: the second answer would be over the bound');
  assert.equal(h.reactor.snapshot().slowConsumersClosed, 1);
  h.link.complete(conn, -125);
  assert.deepEqual(leftovers(h), CLEAN);
});
