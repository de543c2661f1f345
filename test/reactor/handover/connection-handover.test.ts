import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import { Opcode } from '../../../src/protocol/opcode.js';
import { State } from '../../../src/reactor/connection/connection-state.js';
import { ConnectionHandover } from '../../../src/reactor/handover/connection-handover.js';
import type { ConnectionSnapshot } from '../../../src/reactor/handover/connection-snapshot.js';
import type { HandoverOptions } from '../../../src/api/handover-options.js';
import { CLEAN, closeOf, fakeReactor, frame, leftovers } from '../../support/fake-link.js';

/** Two reactors, as the old and the new process, each with its ConnectionHandover. */
function pair(options = {}, hooks: HandoverOptions = {}) {
  const a = fakeReactor({ pingIntervalMs: 5000, idleTimeoutMs: 20000, ...options });
  const b = fakeReactor({ pingIntervalMs: 5000, idleTimeoutMs: 20000, ...options });
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

test('readiness: a write in flight waits; a closing connection ends where it is; a deflate window cannot move', () => {
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
  const deflated = a.link.open({ extensions: 'permessage-deflate' });
  assert.ok((deflated.flags & State.Extension) !== 0);
  assert.equal(from.readiness(deflated), 'unmovable');
  from.refuse(deflated);
  assert.equal(closeOf(a.link.socket(deflated).frames().at(-1)!).code, 1012);
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
