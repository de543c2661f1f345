import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Opcode } from '../../../src/protocol/opcode.js';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import {
  CLEAN,
  deferredUpgrade,
  fakeReactor,
  frame,
  leftovers,
  settled,
  upgradeRequest,
} from '../../support/fake-link.js';
import { echo } from '../../support/servers.js';

const texts = (messages: { data: Buffer }[]) => messages.map((m) => m.data.toString());

test('a request arriving a byte at a time is gathered and parsed once', () => {
  const calls: string[] = [];
  const h = fakeReactor({}, { upgrade: (request) => void calls.push(request.url) });
  const conn = h.link.connect();
  const request = Buffer.from(upgradeRequest(), 'latin1');
  for (let i = 0; i < request.length; i++) h.link.feed(conn, request.subarray(i, i + 1));
  assert.deepEqual(calls, ['/chat']);
  const s = h.link.socket(conn);
  assert.equal(s.writes.length, 1);
  assert.match(s.head(), /^HTTP\/1\.1 101 /);
  assert.deepEqual(h.seen.opens, [conn]);
  assert.deepEqual(leftovers(h), CLEAN, 'the gathered head went back once complete');
});

test('bytes after the head reach the receiver, whether the head came whole or in pieces', () => {
  const h = fakeReactor({}, echo);
  const whole = h.link.connect();
  h.link.feed(whole, upgradeRequest() + frame(Opcode.Text, 'one').toString('latin1'));
  const pieces = h.link.connect();
  const bytes = Buffer.concat([
    Buffer.from(upgradeRequest(), 'latin1'),
    frame(Opcode.Text, 'two'),
    frame(Opcode.Text, 'three'),
  ]);
  h.link.feed(pieces, bytes.subarray(0, 50), bytes.subarray(50, bytes.length - 4), bytes.subarray(bytes.length - 4));
  assert.deepEqual(texts(h.seen.messages), ['one', 'two', 'three']);
  for (const conn of [whole, pieces]) {
    const s = h.link.socket(conn);
    assert.match(s.head(), /^HTTP\/1\.1 101 /, 'the 101 before the replies');
  }
  assert.deepEqual(
    h.link
      .socket(pieces)
      .frames()
      .map((f) => f.payload.toString()),
    ['two', 'three'],
  );
  assert.deepEqual(leftovers(h), CLEAN);
});

test('an async upgrade hook: reads pause while it decides, then resume, and what was read meanwhile is replayed in order', async () => {
  const upgrade = deferredUpgrade();
  const h = fakeReactor({}, { upgrade: upgrade.hook });
  const conn = h.link.connect();
  const s = h.link.socket(conn);
  h.link.feed(conn, upgradeRequest() + frame(Opcode.Text, 'early').toString('latin1'));
  assert.deepEqual([s.paused, s.writes.length, conn.isOpen], [true, 0, false]);
  h.link.feed(conn, frame(Opcode.Text, 'read before the pause took effect'));
  assert.deepEqual(h.seen.messages, []);
  upgrade.settle({ data: { user: 7 } });
  await settled();
  assert.match(s.head(), /^HTTP\/1\.1 101 /);
  assert.deepEqual([s.paused, s.pauses, s.resumes], [false, 1, 1]);
  assert.deepEqual(conn.data, { user: 7 });
  assert.deepEqual(texts(h.seen.messages), ['early', 'read before the pause took effect']);
  assert.deepEqual(upgrade.calls, ['/chat']);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('a pause() in the open handler after an async upgrade holds', async () => {
  const upgrade = deferredUpgrade();
  const h = fakeReactor({}, { upgrade: upgrade.hook, open: (conn) => conn.pause() });
  const conn = h.link.connect();
  h.link.feed(conn, upgradeRequest());
  upgrade.settle();
  await settled();
  assert.equal(conn.isOpen, true);
  assert.equal(
    h.link.socket(conn).paused,
    true,
    'the application paused it: the end of the upgrade must not resume it',
  );
  conn.resume();
  assert.equal(h.link.socket(conn).paused, false);
});

test('a refusal writes the status, then FIN once it is out; what the peer sends next is dropped', () => {
  const h = fakeReactor(
    {},
    { upgrade: () => ({ reject: 401, message: 'who are you', headers: { 'WWW-Authenticate': 'Basic' } }) },
  );
  const conn = h.link.connect();
  const s = h.link.socket(conn);
  s.takes.push(5);
  h.link.feed(conn, upgradeRequest());
  assert.equal(s.shutdowns, 0, 'the response is not all out yet');
  h.link.complete(conn);
  assert.equal(s.shutdowns, 1);
  assert.match(s.head(), /^HTTP\/1\.1 401 [^\r]*\r\n(.*\r\n)*WWW-Authenticate: Basic\r\n/);
  assert.match(s.bytes().toString('latin1'), /who are you/);
  h.link.feed(conn, upgradeRequest());
  assert.equal(s.writes.length, 1, 'a second request is not answered');
  assert.equal(h.reactor.snapshot().handshakesRefused, 1);
  h.reactor.onEnd(conn);
  assert.deepEqual([h.seen.opens, h.seen.closes], [[], []]);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('an async refusal resumes reading, so the peer hanging up is seen', async () => {
  const upgrade = deferredUpgrade();
  const h = fakeReactor({}, { upgrade: upgrade.hook });
  const conn = h.link.connect();
  h.link.feed(conn, upgradeRequest());
  upgrade.settle({ reject: 429 });
  await settled();
  const s = h.link.socket(conn);
  assert.match(s.head(), /^HTTP\/1\.1 429 /);
  assert.equal(s.shutdowns, 1);
  assert.equal(s.paused, false, 'paused, the FIN of the peer would never be read');
});

for (const [how, upgrade, status] of [
  [
    'throws',
    () => {
      throw new Error('hook broke');
    },
    500,
  ],
  ['rejects', () => Promise.reject(new Error('hook broke')), 500],
  ['picks a subprotocol the client did not offer', () => ({ protocol: 'nope' }), 500],
] as const) {
  test(`an upgrade hook that ${how} is answered ${status} and reported`, async () => {
    const h = fakeReactor({}, { upgrade });
    const conn: ConnectionRecord = h.link.connect();
    h.link.feed(conn, upgradeRequest());
    await settled();
    const s = h.link.socket(conn);
    assert.match(s.head(), new RegExp(`^HTTP/1\\.1 ${status} `));
    assert.equal(s.shutdowns, 1);
    assert.equal(h.seen.errors.length, 1);
    assert.equal(s.paused, false, 'reading again, so the peer hanging up is seen');
  });
}

test('refused before any hook: a head over maxHeaderSize (431), a foreign Origin (403), a bad request (400)', () => {
  const h = fakeReactor({ maxHeaderSize: 1024 });
  const cases: [string, RegExp][] = [
    [`GET / HTTP/1.1\r\nX-Long: ${'a'.repeat(1100)}`, /^HTTP\/1\.1 431 /],
    [upgradeRequest({ origin: 'https://elsewhere.example' }), /^HTTP\/1\.1 403 /],
    ['GET / HTTP/1.1\r\nHost: fake.test\r\nUpgrade: websocket\r\n\r\n', /^HTTP\/1\.1 400 /],
  ];
  for (const [request, status] of cases) {
    const conn = h.link.connect();
    h.link.feed(conn, request);
    assert.match(h.link.socket(conn).head(), status);
    h.reactor.onEnd(conn);
  }
  assert.equal(h.reactor.snapshot().handshakesRefused, 3);
  assert.deepEqual(leftovers(h), CLEAN);
});

test("the subprotocol: the server's choice among those offered, unless the hook overrides it", () => {
  const h = fakeReactor(
    { protocols: ['chat', 'superchat'] },
    { upgrade: (request) => (request.headers.has('x-pick') ? { protocol: 'superchat' } : undefined) },
  );
  const protocols = ['superchat', 'chat'];
  const plain = h.link.open({ protocols });
  const picked = h.link.open({ protocols, headers: { 'X-Pick': '1' } });
  assert.deepEqual([plain.protocol, picked.protocol], ['chat', 'superchat']);
  assert.match(h.link.socket(picked).head(), /\r\nSec-WebSocket-Protocol: superchat\r\n/);
});

test('the request handlers see: headers built when read, the same Map in open, remoteAddress from the link when asked', () => {
  const seen: { headers: [string, string][]; address: string; same: boolean }[] = [];
  let upgraded: unknown;
  const h = fakeReactor(
    {},
    {
      upgrade: (request) => {
        upgraded = request;
        seen.push({
          headers: [...request.headers],
          address: request.remoteAddress,
          same: request.headers === request.headers,
        });
      },
      open: (_conn, request) => {
        assert.equal(request, upgraded, 'open gets the object the upgrade hook got');
        assert.equal(request.headers.get('x-trace'), 'a, b');
      },
    },
  );
  const conn = h.link.connect();
  const head = upgradeRequest({ headers: { 'X-Trace': 'a' } }).replace('\r\n\r\n', '\r\nx-trace: b\r\n\r\n');
  h.link.feed(conn, head);
  assert.equal(h.seen.opens.length, 1);
  const expected = head
    .slice(0, -4)
    .split('\r\n')
    .slice(1)
    .map((line) => line.split(/:\s*/, 2) as [string, string]);
  const merged = new Map<string, string>();
  for (const [name, value] of expected)
    merged.set(
      name.toLowerCase(),
      merged.has(name.toLowerCase()) ? `${merged.get(name.toLowerCase())}, ${value}` : value,
    );
  assert.deepEqual(seen[0]!.headers, [...merged]);
  assert.equal(seen[0]!.same, true);
  assert.equal(seen[0]!.address, h.link.remoteAddress());
  assert.ok(
    !Object.keys(upgraded as object).includes('remoteAddress'),
    'a prototype getter, not an own accessor per request',
  );
});

test('a head that arrives whole is upgraded without making the connection extras; one in pieces gets them while it gathers', () => {
  const extrasAtHook: boolean[] = [];
  let conn: ConnectionRecord | undefined;
  const h = fakeReactor({}, { upgrade: () => void extrasAtHook.push(conn!.extras !== null) });
  conn = h.link.connect();
  h.link.feed(conn, upgradeRequest());
  conn = h.link.connect();
  const request = Buffer.from(upgradeRequest(), 'latin1');
  h.link.feed(conn, request.subarray(0, 20), request.subarray(20));
  assert.deepEqual(extrasAtHook, [false, true]);
  assert.equal(h.seen.opens.length, 2);
  assert.deepEqual(leftovers(h), CLEAN);
});
