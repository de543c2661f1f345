import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeServerFrame } from '../../support/frames.js';
import { Opcode } from '../../../src/protocol/opcode.js';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import type { EndpointOptions } from '../../../src/api/options.js';
import { SendResult } from '../../../src/api/send-result.js';
import {
  CLEAN,
  closeFrame,
  deferredUpgrade,
  ECANCELED,
  ECONNRESET,
  EPIPE,
  fakeReactor,
  frame,
  leftovers,
  settled,
  upgradeRequest,
  type FakeReactor,
} from '../../support/fake-link.js';

interface Ending {
  name: string;
  options?: EndpointOptions;
  /** Ends `conn` (open) one way; the reactor may need the peer's EOF to finish. */
  end(h: FakeReactor, conn: ConnectionRecord): void;
  code: number;
  reason: string;
}

const ENDINGS: Ending[] = [
  {
    name: "our Close, then the peer's",
    end(h, conn) {
      conn.close(1000, 'done');
      h.link.feed(conn, closeFrame(1000, 'ok'));
      assert.equal(h.link.socket(conn).shutdowns, 1, 'FIN once the peer answered');
      h.reactor.onEnd(conn);
    },
    code: 1000,
    reason: 'ok', // the peer's answer is what is reported
  },
  {
    name: "the peer's Close, then our echo",
    end(h, conn) {
      h.link.feed(conn, closeFrame(4000, 'bye'));
      h.reactor.onEnd(conn);
    },
    code: 4000,
    reason: 'bye',
  },
  {
    name: 'a Close while a write is in flight: FIN only after it',
    end(h, conn) {
      const s = h.link.socket(conn);
      s.takes.push(0);
      conn.send('pending');
      conn.close(1000);
      h.link.feed(conn, closeFrame(1000));
      assert.equal(s.shutdowns, 0);
      h.link.complete(conn);
      assert.deepEqual([s.opcodes(), s.shutdowns], [[Opcode.Text, Opcode.Close], 1]);
      h.reactor.onEnd(conn);
    },
    code: 1000,
    reason: '',
  },
  {
    name: 'failed on a protocol error',
    end(h, conn) {
      h.link.feed(conn, encodeServerFrame(Opcode.Text, Buffer.from('unmasked')));
      h.reactor.onEnd(conn);
    },
    code: 1002,
    reason: 'client frame is not masked',
  },
  { name: 'terminate()', end: (_h, conn) => conn.terminate(), code: 1006, reason: '' },
  { name: 'EOF without a Close', end: (h, conn) => h.reactor.onEnd(conn), code: 1006, reason: '' },
  { name: 'a read error', end: (h, conn) => h.reactor.onEnd(conn, ECONNRESET), code: 1006, reason: '' },
  {
    name: 'a write error',
    end(h, conn) {
      h.link.socket(conn).failWith = EPIPE;
      conn.send('x');
    },
    code: 1006,
    reason: '',
  },
  {
    name: 'a write that completes with an error',
    end(h, conn) {
      h.link.socket(conn).takes.push(0);
      conn.send('x');
      conn.send('y');
      h.link.complete(conn, ECONNRESET);
    },
    code: 1006,
    reason: '',
  },
  {
    name: 'close() twice',
    end(h, conn) {
      conn.close(4001, 'first');
      conn.close(4002, 'second');
      assert.deepEqual(h.link.socket(conn).opcodes(), [Opcode.Close], 'one Close frame');
      h.link.feed(conn, closeFrame(4001, 'first'));
      h.reactor.onEnd(conn);
    },
    code: 4001,
    reason: 'first',
  },
  {
    // No closing handshake: ours went, the peer's never came (§7.1.5; issue #20, case 7).
    name: 'terminate() after close()',
    end(_h, conn) {
      conn.close(4003, 'ours');
      conn.terminate();
    },
    code: 1006,
    reason: '',
  },
  {
    name: 'shed at the memory budget',
    options: { maxMemoryBytes: 32 * 1024 },
    end(h, conn) {
      h.link.socket(conn).takes.push(0);
      conn.send(Buffer.alloc(100));
      conn.send(Buffer.alloc(10_000));
      h.link.open().send(Buffer.alloc(12_000)); // another 16 KiB: past the budget
      h.link.complete(conn, ECANCELED);
    },
    code: 1006,
    reason: '',
  },
];

for (const e of ENDINGS) {
  test(`the close handler runs exactly once: ${e.name}`, () => {
    const h = fakeReactor(e.options);
    const conn = h.link.open();
    e.end(h, conn);
    assert.deepEqual(
      h.seen.closes.map((c) => [c.conn, c.code, c.reason]),
      [[conn, e.code, e.reason]],
    );
    assert.equal(h.link.socket(conn).destroys, 1);
    // Whatever comes after the end changes nothing.
    conn.close();
    conn.terminate();
    h.reactor.onEnd(conn);
    h.reactor.onEnd(conn, ECONNRESET);
    assert.equal(h.seen.closes.filter((c) => c.conn === conn).length, 1);
    assert.equal(h.link.socket(conn).destroys, 1);
    h.link.completeAll(ECANCELED);
    assert.equal(h.reactor.connectionCount, h.link.connections.length - 1);
    for (const other of h.link.connections) other.terminate();
    assert.deepEqual(leftovers(h), CLEAN);
  });
}

test('a throwing close handler is reported and counted, not thrown', () => {
  const error = new Error('close broke');
  const h = fakeReactor(
    {},
    {
      close() {
        throw error;
      },
    },
  );
  const conn = h.link.open();
  assert.doesNotThrow(() => conn.terminate());
  assert.deepEqual(h.seen.errors, [{ error, conn }]);
  assert.equal(h.reactor.snapshot().handlerErrors, 1);
});

test('a handshake that never finished ends without the close handler', () => {
  const h = fakeReactor();
  const conn = h.link.connect();
  h.link.feed(conn, upgradeRequest().slice(0, 30));
  h.reactor.onEnd(conn);
  assert.deepEqual(h.seen.closes, []);
  assert.equal(h.link.socket(conn).destroys, 1);
  assert.equal(h.reactor.connectionCount, 0);
  assert.equal(h.reactor.snapshot().closed, 1);
  assert.deepEqual(leftovers(h), CLEAN, 'the gathered head went back');
});

test('client role: a connection that ends before the 101 is abandoned, with the reason', () => {
  const h = fakeReactor({}, {}, 'client');
  const abandoned = h.seen.abandoned; // filled as connections end
  const eof = h.link.connectClient();
  assert.match(h.link.socket(eof).head(), /^GET \/ HTTP\/1\.1\r\n/);
  h.reactor.onEnd(eof);
  const refused = h.link.connectClient();
  h.link.feed(refused, 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  assert.deepEqual(
    abandoned.map(({ conn }) => conn),
    [eof, refused],
  );
  assert.equal(abandoned[0]!.error.message, 'connection closed before the WebSocket handshake completed');
  assert.match(abandoned[1]!.error.message, /403/);
  assert.deepEqual(h.seen.closes, []);
  assert.equal(h.reactor.connectionCount, 0);
  assert.deepEqual(leftovers(h), CLEAN);
});

for (const [how, end] of [
  ['close()', (_h: FakeReactor, conn: ConnectionRecord) => conn.close()],
  ['the peer hanging up', (h: FakeReactor, conn: ConnectionRecord) => h.reactor.onEnd(conn)],
] as const) {
  test(`an async upgrade hook settling after ${how} writes nothing and opens nothing`, async () => {
    const upgrade = deferredUpgrade();
    const h = fakeReactor({}, { upgrade: upgrade.hook });
    const conn = h.link.connect();
    h.link.feed(conn, upgradeRequest() + 'early bytes, held for the receiver');
    end(h, conn);
    assert.equal(h.link.socket(conn).destroys, 1);
    upgrade.settle();
    await settled();
    assert.deepEqual(h.link.socket(conn).writes, []);
    assert.deepEqual([h.seen.opens, h.seen.closes], [[], []]);
    assert.equal(h.reactor.connectionCount, 0);
    assert.deepEqual(leftovers(h), CLEAN, 'the held bytes went back');
  });
}

test('after the end, the connection reports closed and sends nothing', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  h.link.feed(conn, frame(Opcode.Close, Buffer.alloc(0)));
  h.reactor.onEnd(conn);
  assert.deepEqual(
    h.seen.closes.map((c) => c.code),
    [1005],
    'a Close without a code is reported as 1005',
  );
  assert.deepEqual([conn.isOpen, conn.send('x'), conn.ping()], [false, SendResult.Dropped, SendResult.Dropped]);
  assert.equal(h.reactor.snapshot().closed, 1);
});
