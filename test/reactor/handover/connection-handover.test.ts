import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { Opcode } from '../../../src/protocol/opcode.js';
import { State } from '../../../src/reactor/connection/connection-state.js';
import { ConnectionHandover } from '../../../src/reactor/handover/connection-handover.js';
import type { ConnectionSnapshot } from '../../../src/reactor/handover/connection-snapshot.js';
import type { HandoverOptions } from '../../../src/api/handover-options.js';
import type { DeflateSession } from '../../../src/compression/deflate-session.js';
import { Compressor, Decompressor, RSV1 } from '../../support/deflate.js';
import { CLEAN, closeOf, fakeReactor, frame, leftovers } from '../../support/fake-link.js';

/** Two reactors, as the old and the new process, each with its ConnectionHandover. */
function pair(options = {}, hooks: HandoverOptions = {}, newOptions = options) {
  const a = fakeReactor({ pingIntervalMs: 5000, idleTimeoutMs: 20000, ...options });
  const b = fakeReactor({ pingIntervalMs: 5000, idleTimeoutMs: 20000, ...newOptions });
  return { a, b, from: new ConnectionHandover(a.reactor, hooks), to: new ConnectionHandover(b.reactor, hooks) };
}

/** What crosses between processes: the snapshot through v8 serialization, as endpoint.ts sends it. */
const travel = (snapshot: ConnectionSnapshot): ConnectionSnapshot =>
  deserialize(serialize(snapshot)) as ConnectionSnapshot;

test('a connection leaves with its partial frame, fragmented message, topics, subprotocol, deadline and data, and carries on in the other reactor', () => {
  const adopted: unknown[] = [];
  const { a, b, from, to } = pair({ protocols: ['chat'] }, { adopted: (conn) => void adopted.push(conn.data) });
  const conn = a.link.open({ protocols: ['chat'] });
  conn.data = { user: 'ada', seen: new Map([[1, 'x']]) };
  a.reactor.subscribe(conn, 'news');
  // A fragmented message begun, and its last fragment cut in the middle of its payload.
  const last = frame(Opcode.Continuation, 'second and last');
  a.link.feed(conn, frame(Opcode.Text, 'first-', false), last.subarray(0, 9));
  assert.equal(from.readiness(conn), 'ready');
  const snapshot = travel(from.release(conn)!);
  assert.equal(a.reactor.connectionCount, 0, 'gone from the old registry');
  assert.equal(a.reactor.topics.count('news'), 0);
  assert.deepEqual(a.seen.closes, [], 'no close handler: it lives on');
  assert.deepEqual(leftovers(a), CLEAN, 'its partial frame and message went back to the old pool');
  assert.ok(snapshot.deadlineMs > 0 && snapshot.deadlineMs <= 5000);

  const moved = new b.link.Conn(a.link.socket(conn));
  assert.equal(to.restore(moved, snapshot, true), true);
  assert.deepEqual(adopted, [{ user: 'ada', seen: new Map([[1, 'x']]) }]);
  assert.equal(moved.protocol, 'chat');
  assert.equal(b.reactor.topics.count('news'), 1);
  assert.equal(b.seen.opens.length, 0, 'open is not called again');
  // The rest of the frame the old reactor had begun completes the message; then the next one.
  b.link.feed(moved, last.subarray(9));
  b.link.feed(moved, frame(Opcode.Text, 'after'));
  assert.deepEqual(
    b.seen.messages.map((m) => m.data.toString()),
    ['first-second and last', 'after'],
  );
  assert.equal(b.reactor.publish('news', 'flash', false), 1);
  b.reactor.lifecycle.close(moved, 1000, 'bye');
  assert.equal(closeOf(b.link.socket(moved).frames().at(-1)!).code, 1000);
});

test('readiness: a write in flight waits; a closing connection ends where it is; a deflate window moves', () => {
  const { a, from } = pair({ deflate: 'window' });
  const plain = a.link.open();
  a.link.socket(plain).takes.push(3); // the kernel takes 3 bytes of the next write
  a.reactor.send(plain, 'queued', false);
  assert.equal(from.readiness(plain), 'wait');
  a.link.complete(plain);
  assert.equal(from.readiness(plain), 'ready');
  const closing = a.link.open();
  a.reactor.close(closing, 1000, '');
  assert.equal(from.readiness(closing), 'ending');
  const deflated = a.link.open({ extensions: 'permessage-deflate; client_max_window_bits' });
  assert.ok((deflated.flags & State.Extension) !== 0);
  assert.notEqual(deflated.extras?.extension, null, 'a session of its own');
  assert.equal(from.readiness(deflated), 'ready');
  from.refuse(deflated);
  assert.equal(closeOf(a.link.socket(deflated).frames().at(-1)!).code, 1012);
});

/** Random pieces that come back: message i is pieces i and i+1 (of 4, in turn), each referring back into the one before. */
function pieces(count: number): string[] {
  const piece = Array.from({ length: 4 }, () => randomBytes(900).toString('base64')); // 1,200 characters
  return Array.from({ length: count }, (_, i) => `${i}:${piece[i % 4]}${piece[(i + 1) % 4]}`);
}

test("permessage-deflate window: the inflater's window moves, so what the peer sends after refers back into what it sent before; a compressed message cut in two is finished; the compressor starts afresh", () => {
  const { a, b, from, to } = pair({ deflate: 'window', deflateThreshold: 0 });
  const conn = a.link.open({ extensions: 'permessage-deflate; client_max_window_bits' });
  const session = conn.extras!.extension as DeflateSession;
  assert.deepEqual([session.sendBits, session.receiveBits], [12, 12]);
  const peerOut = new Compressor(12); // the peer's: context takeover, its window never reset
  const peerIn = new Decompressor();
  const sent = pieces(8);
  for (const text of sent.slice(0, 3)) a.link.feed(conn, frame(Opcode.Text | RSV1, peerOut.compress(text)));
  conn.send('reply before');
  // A compressed message in two fragments: the first read here, the second after the move.
  const cut = peerOut.compress(sent[3]!);
  a.link.feed(conn, frame(Opcode.Text | RSV1, cut.subarray(0, 500), false));
  assert.equal(from.readiness(conn), 'ready');
  const snapshot = travel(from.release(conn)!);
  assert.deepEqual(
    [a.reactor.snapshot().deflate.reservedBytes, a.reactor.snapshot().deflate.contexts],
    [0, 0],
    'its contexts closed and its budget back in the old reactor',
  );
  assert.deepEqual(leftovers(a), CLEAN);

  const moved = new b.link.Conn(a.link.socket(conn));
  assert.equal(to.restore(moved, snapshot, true), true);
  b.link.feed(moved, frame(Opcode.Continuation, cut.subarray(500)));
  for (const text of sent.slice(4)) b.link.feed(moved, frame(Opcode.Text | RSV1, peerOut.compress(text)));
  assert.deepEqual(
    a.seen.messages.map((m) => m.data.toString()),
    sent.slice(0, 3),
  );
  assert.deepEqual(
    b.seen.messages.map((m) => m.data.toString()),
    sent.slice(3),
  );
  moved.send('reply after');
  // The peer's one inflater reads the old compressor's messages, then the new one's.
  const replies = a.link
    .socket(conn)
    .frames()
    .filter((f) => f.opcode === Opcode.Text)
    .map((f) => (f.rsv === 4 ? peerIn.inflate(f.payload) : f.payload).toString());
  assert.deepEqual(replies, ['reply before', 'reply after']);
  assert.equal(b.reactor.snapshot().deflate.sessions, 1);
  b.reactor.lifecycle.close(moved, 1000, 'bye');
  b.link.feed(moved, frame(Opcode.Close, Buffer.of(0x03, 0xe8)));
  b.reactor.onEnd(moved);
  assert.deepEqual([b.reactor.snapshot().deflate.reservedBytes, b.reactor.snapshot().deflate.contexts], [0, 0]);
  assert.deepEqual(leftovers(b), CLEAN);
  peerOut.close();
  peerIn.close();
});

test('permessage-deflate window: a new process without deflate, or whose budget is full, closes the connection with 1012', () => {
  for (const newOptions of [{}, { deflate: 'window' as const, maxDeflateBytes: 1000 }]) {
    const { a, b, from, to } = pair({ deflate: 'window' }, {}, newOptions);
    const conn = a.link.open({ extensions: 'permessage-deflate; client_max_window_bits' });
    const peer = new Compressor(12);
    a.link.feed(conn, frame(Opcode.Text | RSV1, peer.compress('hello')));
    peer.close();
    const snapshot = travel(from.release(conn)!);
    const moved = new b.link.Conn(a.link.socket(conn));
    assert.equal(to.restore(moved, snapshot, true), false);
    assert.equal(closeOf(a.link.socket(conn).frames().at(-1)!).code, 1012);
    b.link.feed(moved, frame(Opcode.Close, Buffer.of(0x03, 0xf4)));
    b.reactor.onEnd(moved);
    assert.deepEqual(b.seen.errors, [], JSON.stringify(newOptions));
    assert.equal(b.reactor.connectionCount, 0);
    assert.deepEqual(leftovers(b), CLEAN);
  }
});

test('a move that fails: the connection is restored in place, the same object, no hooks, reading its data as before', () => {
  const adopted: unknown[] = [];
  const { a, from } = pair({}, { adopted: (conn) => void adopted.push(conn) });
  const conn = a.link.open();
  conn.data = 7;
  a.reactor.subscribe(conn, 't');
  const snapshot = from.release(conn)!;
  assert.equal(conn.isOpen, false, 'closed while away: a reference kept by the application sends nothing');
  assert.equal(from.restore(conn, snapshot, false), true);
  assert.equal(conn.isOpen, true);
  assert.equal(conn.data, 7);
  assert.equal(a.reactor.topics.count('t'), 1);
  assert.deepEqual(adopted, []);
  a.link.feed(conn, frame(Opcode.Text, 'still here'));
  assert.deepEqual(
    a.seen.messages.map((m) => m.data.toString()),
    ['still here'],
  );
});

test('serialize and restore turn conn.data into what travels and back; a throwing serialize closes with 1012', () => {
  const { a, b, from, to } = pair(
    {},
    {
      serialize: (data) => (data as { id: number }).id,
      restore: (value) => ({ id: value, restored: true }),
    },
  );
  const conn = a.link.open();
  conn.data = { id: 42, socket: () => {} };
  const snapshot = travel(from.release(conn)!);
  assert.equal(snapshot.data, 42);
  const moved = new b.link.Conn(a.link.socket(conn));
  to.restore(moved, snapshot, true);
  assert.deepEqual(moved.data, { id: 42, restored: true });

  const bad = pair(
    {},
    {
      serialize: () => {
        throw new Error('no');
      },
    },
  );
  const refused = bad.a.link.open();
  assert.equal(bad.from.release(refused), null);
  assert.equal(closeOf(bad.a.link.socket(refused).frames().at(-1)!).code, 1012);
});

test('a snapshot of another layout (a reload across a change of these fields) is not guessed at: Close 1012, counted, no hooks', () => {
  const adopted: unknown[] = [];
  const { a, b, from, to } = pair({}, { adopted: (conn) => void adopted.push(conn) });
  const conn = a.link.open();
  a.reactor.subscribe(conn, 'news');
  a.link.feed(conn, frame(Opcode.Text, 'cut in the middle').subarray(0, 8));
  const snapshot = travel(from.release(conn)!);
  const older = { ...snapshot, layout: snapshot.layout - 1 };
  const moved = new b.link.Conn(a.link.socket(conn));
  assert.equal(to.restore(moved, older, true), false);
  assert.deepEqual(adopted, [], 'the adopted hook is not called');
  assert.equal(closeOf(a.link.socket(conn).frames().at(-1)!).code, 1012);
  assert.equal(b.reactor.topics.count('news'), 0, 'no subscription restored from fields of unknown meaning');
});
