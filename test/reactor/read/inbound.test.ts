import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeServerFrame } from '../../support/frames.js';
import { Opcode } from '../../../src/protocol/opcode.js';
import { ErrorKind, reasonFor } from '../../../src/protocol/protocol-error.js';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import type { Handlers } from '../../../src/api/handlers.js';
import {
  CLEAN,
  closeFrame,
  closeOf,
  fakeReactor,
  frame,
  leftovers,
  rawFrame,
  type FakeReactor,
} from '../../support/fake-link.js';

test('messages, pings and pongs reach their handlers with their data; a Ping is answered with the same data', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  h.link.feed(
    conn,
    Buffer.concat([
      frame(Opcode.Text, 'héllo'),
      frame(Opcode.Binary, Buffer.from([1, 2, 3])),
      frame(Opcode.Text, 'ab', false),
      frame(Opcode.Ping, 'p1'), // between fragments, as §5.4 allows
      frame(Opcode.Continuation, 'cd'),
      frame(Opcode.Pong, 'q1'),
    ]),
  );
  assert.deepEqual(
    h.seen.messages.map((m) => [m.data.toString(), m.isBinary]),
    [
      ['héllo', false],
      ['\x01\x02\x03', true],
      ['abcd', false],
    ],
  );
  assert.deepEqual(
    h.seen.pings.map((p) => p.data.toString()),
    ['p1'],
  );
  assert.deepEqual(
    h.seen.pongs.map((p) => p.data.toString()),
    ['q1'],
  );
  assert.deepEqual(
    h.link
      .socket(conn)
      .frames()
      .map((f) => [f.opcode, f.payload.toString()]),
    [[Opcode.Pong, 'p1']],
  );
  assert.equal(h.reactor.snapshot().messagesIn, 3);
  assert.deepEqual(leftovers(h), CLEAN, "the fragmented message's buffer went back");
});

test('a frame split across reads is delivered once it is whole', () => {
  const h = fakeReactor();
  const conn = h.link.open();
  const bytes = frame(Opcode.Binary, Buffer.alloc(300, 9));
  h.link.feed(conn, bytes.subarray(0, 1), bytes.subarray(1, 5), bytes.subarray(5, 200));
  assert.equal(h.seen.messages.length, 0);
  assert.equal(h.reactor.snapshot().readingNow, 1);
  h.link.feed(conn, bytes.subarray(200));
  assert.deepEqual(
    h.seen.messages.map((m) => m.data),
    [Buffer.alloc(300, 9)],
  );
  assert.deepEqual(leftovers(h), CLEAN);
});

interface Throwing {
  name: string;
  handlers(error: Error): Handlers;
  /** Makes the handler throw for `victim` (opened first) and not for `other`. */
  trigger(h: FakeReactor, victim: ConnectionRecord): void;
}

const THROWING: Throwing[] = [
  {
    name: 'message',
    handlers: (error) => ({
      message(_conn, data) {
        if (data.toString() === 'boom') throw error;
      },
    }),
    trigger: (h, victim) =>
      h.link.feed(victim, Buffer.concat([frame(Opcode.Text, 'boom'), frame(Opcode.Text, 'unread')])),
  },
  {
    name: 'open',
    handlers: (error) => {
      let opened = 0;
      return {
        open() {
          if (opened++ === 0) throw error;
        },
      };
    },
    trigger: () => {},
  },
  {
    name: 'ping',
    handlers: (error) => ({
      ping(_conn, data) {
        if (data.toString() === 'boom') throw error;
      },
    }),
    trigger: (h, victim) => h.link.feed(victim, frame(Opcode.Ping, 'boom')),
  },
  {
    name: 'drain',
    handlers: (error) => ({
      drain() {
        throw error;
      },
    }),
    trigger: (h, victim) => {
      h.link.socket(victim).takes.push(0);
      victim.send('slow');
      h.link.complete(victim);
    },
  },
];

for (const c of THROWING) {
  test(`a throwing ${c.name} handler closes its own connection with 1011 and reaches the error handler`, () => {
    const error = new Error(`${c.name} broke`);
    const h = fakeReactor({}, c.handlers(error));
    const victim = h.link.open();
    const other = h.link.open();
    c.trigger(h, victim);
    const frames = h.link.socket(victim).frames();
    assert.deepEqual(closeOf(frames.at(-1)!), { code: 1011, reason: 'internal error' });
    assert.equal(h.link.socket(victim).shutdowns, 1);
    assert.deepEqual(h.seen.errors, [{ error, conn: victim }]);
    assert.equal(h.reactor.snapshot().handlerErrors, 1);
    assert.equal(
      h.seen.messages.some((m) => m.data.toString() === 'unread'),
      false,
      'nothing is read after the failure',
    );
    // The other connection goes on as before.
    h.link.feed(other, frame(Opcode.Ping, 'ok'));
    assert.equal(other.isOpen, true);
    assert.deepEqual(h.link.socket(other).opcodes(), [Opcode.Pong]);
    h.reactor.onEnd(victim);
    assert.deepEqual(
      h.seen.closes.map((x) => [x.conn, x.code]),
      [[victim, 1011]],
    );
  });
}

test('a throwing error handler is logged, never thrown', () => {
  const h = fakeReactor(
    {},
    {
      message() {
        throw new Error('first');
      },
      error() {
        throw new Error('second');
      },
    },
  );
  const conn = h.link.open();
  assert.doesNotThrow(() => h.link.feed(conn, frame(Opcode.Text, 'x')));
  const errors = h.seen.logs.filter((l) => l.level === 'error').map((l) => l.message);
  assert.equal(errors.length, 2);
  assert.match(errors[0]!, /^the error handler threw: Error: second/);
  assert.match(errors[1]!, /^Error: first/);
  assert.deepEqual(closeOf(h.link.socket(conn).frames().at(-1)!).code, 1011);
});

const PROTOCOL_ERRORS: { name: string; bytes: Buffer; code: number; kind: number; options?: object }[] = [
  {
    name: 'an unmasked frame',
    bytes: encodeServerFrame(Opcode.Text, Buffer.from('hi')),
    code: 1002,
    kind: ErrorKind.UnmaskedClientFrame,
  },
  {
    name: 'invalid UTF-8',
    bytes: frame(Opcode.Text, Buffer.from([0xc3, 0x28])),
    code: 1007,
    kind: ErrorKind.InvalidUtf8,
  },
  { name: 'a reserved opcode', bytes: rawFrame(0x83, 0x80, [0, 0, 0, 0]), code: 1002, kind: ErrorKind.ReservedOpcode },
  {
    name: 'a message over maxMessageSize',
    bytes: frame(Opcode.Binary, Buffer.alloc(11)),
    code: 1009,
    kind: ErrorKind.MessageTooBig,
    options: { maxMessageSize: 10 },
  },
  {
    name: 'a Close with a code not for the wire',
    bytes: frame(Opcode.Close, Buffer.from([0x03, 0xee])),
    code: 1002,
    kind: ErrorKind.InvalidCloseCode,
  },
];

for (const c of PROTOCOL_ERRORS) {
  test(`${c.name} fails the connection with ${c.code}`, () => {
    const h = fakeReactor(c.options);
    const conn = h.link.open();
    h.link.feed(conn, Buffer.concat([c.bytes, frame(Opcode.Text, 'after')]));
    const s = h.link.socket(conn);
    assert.deepEqual(s.opcodes(), [Opcode.Close]);
    assert.deepEqual(closeOf(s.frames()[0]!), { code: c.code, reason: reasonFor(c.kind as never) });
    assert.equal(s.shutdowns, 1);
    assert.deepEqual(h.seen.messages, []);
    assert.equal(h.reactor.snapshot().protocolErrors, 1);
    h.reactor.onEnd(conn);
    assert.deepEqual(
      h.seen.closes.map((x) => x.code),
      [c.code],
    );
    assert.deepEqual(leftovers(h), CLEAN);
  });
}

test("the peer's Close is echoed with its code and reason, FIN follows, and nothing after it is read", () => {
  const h = fakeReactor();
  const conn = h.link.open();
  h.link.feed(conn, Buffer.concat([closeFrame(4001, 'bye'), frame(Opcode.Text, 'too late')]));
  const s = h.link.socket(conn);
  assert.deepEqual(
    s.frames().map((f) => [f.opcode, f.payload.toString('hex')]),
    [[Opcode.Close, '0fa1' + Buffer.from('bye').toString('hex')]],
    'the code and the reason, as ws echoes them',
  );
  assert.equal(s.shutdowns, 1);
  assert.deepEqual(h.seen.messages, []);
  assert.equal(conn.isOpen, false);
});

test("after our Close, data is read for the peer's Close but not delivered, and Pings are not answered", () => {
  const h = fakeReactor();
  const conn = h.link.open();
  conn.close(1000, 'done');
  h.link.feed(conn, Buffer.concat([frame(Opcode.Text, 'in flight'), frame(Opcode.Ping, 'p')]));
  assert.deepEqual(h.seen.messages, []);
  assert.equal(h.reactor.snapshot().messagesIn, 1, 'read and counted');
  assert.deepEqual(h.link.socket(conn).opcodes(), [Opcode.Close]);
  assert.equal(h.seen.pings.length, 1, 'the ping handler still hears it');
});
