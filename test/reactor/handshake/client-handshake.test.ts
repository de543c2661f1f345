import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeServerFrame } from '../../support/frames.js';
import { buildSwitchingProtocols } from '../../../src/protocol/http-response.js';
import { Opcode } from '../../../src/protocol/opcode.js';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import { CLEAN, closeOf, fakeReactor, frame, leftovers, type FakeReactor } from '../../support/fake-link.js';

/** A client-role reactor that records the connections it abandons. */
function client() {
  const h = fakeReactor({}, {}, 'client');
  return { ...h, abandoned: h.seen.abandoned };
}

/** The server's 101 for the request `conn` wrote. */
function accepting(h: FakeReactor, conn: ConnectionRecord, protocol?: string): string {
  const key = /\r\nSec-WebSocket-Key: (\S+)\r\n/.exec(h.link.socket(conn).head())![1]!;
  return buildSwitchingProtocols({ key, protocol });
}

const text = (payload: string) => encodeServerFrame(Opcode.Text, Buffer.from(payload));

test('the request goes out on connect; a 101 opens the connection and the frames after it are read', () => {
  const h = client();
  const conn = h.link.connectClient({ host: 'example.test:8080', path: '/feed?x=1', protocols: ['v2', 'v1'] });
  const request = h.link.socket(conn).head();
  assert.match(request, /^GET \/feed\?x=1 HTTP\/1\.1\r\nHost: example\.test:8080\r\n/);
  assert.match(request, /\r\nSec-WebSocket-Protocol: v2, v1\r\n/);
  h.link.feed(conn, Buffer.concat([Buffer.from(accepting(h, conn, 'v1'), 'latin1'), text('first'), text('second')]));
  assert.deepEqual(h.seen.opens, [conn]);
  assert.equal(conn.protocol, 'v1');
  assert.deepEqual(
    h.seen.messages.map((m) => m.data.toString()),
    ['first', 'second'],
  );
  assert.deepEqual(h.abandoned, []);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a response arriving a byte at a time is gathered, checked once, and the rest read', () => {
  const h = client();
  const conn = h.link.connectClient();
  const bytes = Buffer.concat([Buffer.from(accepting(h, conn), 'latin1'), text('after')]);
  for (let i = 0; i < bytes.length; i++) h.link.feed(conn, bytes.subarray(i, i + 1));
  assert.deepEqual(h.seen.opens, [conn]);
  assert.deepEqual(
    h.seen.messages.map((m) => m.data.toString()),
    ['after'],
  );
  assert.deepEqual(leftovers(h), CLEAN, 'the gathered head went back');
});

test('what a client sends is masked, with a fresh key for each frame', () => {
  const h = client();
  const conn = h.link.connectClient();
  h.link.feed(conn, accepting(h, conn));
  conn.send('same');
  conn.send('same');
  const s = h.link.socket(conn);
  assert.deepEqual(
    s.frames().map((f) => f.payload.toString()),
    ['same', 'same'],
    'decoded as masked frames',
  );
  const [a, b] = s.writes.slice(1);
  assert.notDeepEqual(a, b, 'the same payload under two keys');
});

test('a masked frame from the server fails the connection with 1002, and our Close is masked', () => {
  const h = client();
  const conn = h.link.connectClient();
  h.link.feed(conn, accepting(h, conn));
  h.link.feed(conn, frame(Opcode.Text, 'masked'));
  const frames = h.link.socket(conn).frames();
  assert.deepEqual(closeOf(frames.at(-1)!), { code: 1002, reason: 'server frame is masked' });
  assert.deepEqual(h.seen.messages, []);
});

test('a response that is not a valid 101 abandons the connection with the reason; no open, no close handler', () => {
  const h = client();
  const wrongKey = h.link.connectClient();
  h.link.feed(wrongKey, buildSwitchingProtocols({ key: 'AAAAAAAAAAAAAAAAAAAAAA==' }));
  const unasked = h.link.connectClient({ host: 'fake.test', path: '/' });
  h.link.feed(unasked, accepting(h, unasked, 'never-offered'));
  const huge = h.link.connectClient();
  h.link.feed(huge, `HTTP/1.1 101 Switching Protocols\r\nX-Filler: ${'f'.repeat(17 * 1024)}`);
  assert.deepEqual(
    h.abandoned.map((a) => a.conn),
    [wrongKey, unasked, huge],
  );
  assert.match(h.abandoned[0]!.error.message, /Sec-WebSocket-Accept/);
  assert.match(h.abandoned[1]!.error.message, /never-offered/);
  assert.equal(h.abandoned[2]!.error.message, 'handshake response head too large');
  for (const conn of [wrongKey, unasked, huge]) assert.equal(h.link.socket(conn).destroys, 1);
  assert.deepEqual([h.seen.opens, h.seen.closes], [[], []]);
  assert.equal(h.reactor.connectionCount, 0);
  assert.deepEqual(leftovers(h), CLEAN);
});
