import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../../src/pool/buffer-pool.js';
import { CloseCode } from '../../../src/protocol/close-code.js';
import { Rsv } from '../../../src/protocol/frame-header.js';
import { Opcode } from '../../../src/protocol/opcode.js';
import { ErrorKind, type ErrorKindValue } from '../../../src/protocol/protocol-error.js';
import type { ReceiveProgress } from '../../../src/protocol/receive-progress.js';
import type { ReceiverConfig } from '../../../src/protocol/receiver.js';
import type { ReactorContext } from '../../../src/reactor/context.js';
import { resolveOptions } from '../../../src/reactor/options.js';
import { buildSwitchingProtocols } from '../../../src/protocol/http-response.js';
import { State } from '../../../src/reactor/connection/connection-state.js';
import type { ConnectionRecord } from '../../../src/reactor/connection/connection-record.js';
import type { Extension, TransformedMessage } from '../../../src/reactor/extensions/extension.js';
import type { Lifecycle } from '../../../src/reactor/lifecycle/lifecycle.js';
import type { Timeouts } from '../../../src/reactor/lifecycle/timeouts.js';
import { Reporter } from '../../../src/reactor/observe/reporter.js';
import { ReactorStats } from '../../../src/reactor/observe/stats.js';
import { Inbound } from '../../../src/reactor/read/inbound.js';
import type { Writer } from '../../../src/reactor/write/writer.js';
import { ECONNRESET, closeFrame, fakeReactor, frame, type FakeReactor } from '../../support/fake-link.js';

/** RSV bits in a frame's first byte, to OR with an opcode for `frame` (RFC 6455 §5.2). */
const RSV1_BIT = 0x40;
const RSV2_BIT = 0x20;
const RSV3_BIT = 0x10;

/** Just what Inbound and the receiver read of a connection. */
class FakeConn {
  flags = State.Open;
  extras = null;
  progress: ReceiveProgress | null = null;
  readonly remoteAddress = '203.0.113.7:40001';
  get receiving(): boolean {
    return (this.flags & (State.Closed | State.CloseReceived)) === 0;
  }
}

/** An extension owning RSV2 that reverses a message's bytes: enough to see the seam used, and nothing of deflate. */
class ReversingExtension implements Extension {
  readonly name = 'x-reverse';
  readonly rsv = Rsv.Two;
  readonly decoded: string[] = [];
  recycled = 0;
  failWith: ErrorKindValue | 0 = 0;
  private readonly out: TransformedMessage = { buf: null, length: 0 };

  constructor(private readonly pool: BufferPool) {}

  respond(): string | undefined {
    return undefined;
  }
  offer(): string | undefined {
    return undefined;
  }
  accept(): string | undefined {
    return undefined;
  }
  decode(_conn: ConnectionRecord, data: Buffer): TransformedMessage | ErrorKindValue {
    this.decoded.push(data.toString());
    if (this.failWith !== 0) return this.failWith;
    const buf = this.pool.borrow(data.length);
    data.copy(buf);
    buf.subarray(0, data.length).reverse();
    this.out.buf = buf;
    this.out.length = data.length;
    return this.out;
  }
  recycle(buf: Buffer): void {
    this.recycled++;
    this.pool.release(buf);
  }
  send(): undefined {
    return undefined;
  }
  writeToMany(): number {
    return 0;
  }
  release(): void {}
  snapshot(): null {
    return null;
  }
  restore(): boolean {
    return true;
  }
  stats(): never {
    throw new Error('not asked here');
  }
  close(): void {}
}

function inboundWith(extension: Extension | null, pool: BufferPool) {
  const failures: number[] = [];
  const messages: string[] = [];
  const ctx = {
    role: 'server',
    options: resolveOptions({ maxMessageSize: 1 << 20, minFragmentSize: 0 }),
    pool,
    stats: new ReactorStats(),
    reporter: new Reporter('warn', () => {}, undefined),
  } as unknown as ReactorContext;
  const lifecycle = {
    fail(conn: FakeConn, code: number) {
      failures.push(code);
      conn.flags |= State.CloseReceived;
    },
    handlerFailed(error: unknown) {
      throw error;
    },
  } as unknown as Lifecycle;
  const inbound = new Inbound(
    ctx,
    lifecycle,
    { received() {} } as unknown as Timeouts,
    { writeFrame: () => 0 } as unknown as Writer,
    { message: (_conn, data) => void messages.push(data.toString()) },
    extension,
  );
  const config: ReceiverConfig = inbound.config;
  const feed = (conn: FakeConn, bytes: Buffer): void =>
    inbound.read(conn as unknown as ConnectionRecord, bytes, 0, bytes.length);
  return { inbound, config, failures, messages, feed };
}

test('the receiver allows exactly the RSV bits of the negotiated extension, and only on connections that negotiated it (RFC 6455 §5.2)', () => {
  const pool = new BufferPool({});
  const extension = new ReversingExtension(pool);
  const { inbound, config, failures, messages, feed } = inboundWith(extension, pool);
  assert.equal(config.allowedRsv, 0);
  assert.equal(inbound.extendedConfig.allowedRsv, Rsv.Two);
  assert.deepEqual({ ...inbound.extendedConfig, allowedRsv: 0 }, config, 'nothing else differs');

  const negotiated = (): FakeConn => {
    const conn = new FakeConn();
    conn.flags |= State.Extension;
    return conn;
  };
  // Its own bit: the message goes through the inbound transform, then to the handler.
  const conn = negotiated();
  feed(conn, frame(Opcode.Text | RSV2_BIT, 'olleh'));
  feed(conn, frame(Opcode.Text, 'plain'));
  assert.deepEqual(extension.decoded, ['olleh']);
  assert.deepEqual(messages, ['hello', 'plain']);
  assert.equal(extension.recycled, 1, "the transformed message's buffer went back");
  assert.deepEqual(failures, []);

  // Any other bit, even on a connection that negotiated an extension, fails it with 1002.
  for (const bit of [RSV1_BIT, RSV3_BIT]) {
    feed(negotiated(), frame(Opcode.Binary | bit, 'x'));
  }
  // The extension's bit on a connection that did not negotiate it: 1002, and the extension never sees it.
  feed(new FakeConn(), frame(Opcode.Binary | RSV2_BIT, 'x'));
  assert.deepEqual(failures, [CloseCode.ProtocolError, CloseCode.ProtocolError, CloseCode.ProtocolError]);
  assert.deepEqual(extension.decoded, ['olleh']);
  assert.equal(pool.stats().lentBuffers, 0);
});

test("an inbound transform that fails closes the connection with its error kind's code; transformed text is UTF-8 checked after", () => {
  const pool = new BufferPool({});
  const extension = new ReversingExtension(pool);
  const { failures, messages, feed } = inboundWith(extension, pool);
  const conn = new FakeConn();
  conn.flags |= State.Extension;
  extension.failWith = ErrorKind.MessageTooBig;
  feed(conn, frame(Opcode.Binary | RSV2_BIT, 'bomb'));
  assert.deepEqual(failures, [CloseCode.MessageTooBig]);

  extension.failWith = 0;
  const text = new FakeConn();
  text.flags |= State.Extension;
  // Not UTF-8 once reversed (a lead byte last), though the wire bytes would pass as Latin-1 garbage.
  feed(text, frame(Opcode.Text | RSV2_BIT, Buffer.from([0xc3, 0x61])));
  assert.deepEqual(failures, [CloseCode.MessageTooBig, CloseCode.InvalidFramePayloadData]);
  assert.deepEqual(messages, []);
  assert.equal(pool.stats().lentBuffers, 0);
});

test('without an extension, connections are read with the plain configuration: no RSV bit allowed', () => {
  const pool = new BufferPool({});
  const { inbound, config, failures, feed } = inboundWith(null, pool);
  assert.equal(inbound.extendedConfig, config);
  feed(new FakeConn(), frame(Opcode.Text | RSV1_BIT, 'x'));
  assert.deepEqual(failures, [CloseCode.ProtocolError]);
});

test('release is called once for a connection that negotiated the extension, however it ends; never for one that did not', () => {
  const endings: [string, (h: FakeReactor, conn: ConnectionRecord) => void][] = [
    [
      'closing handshake',
      (h, conn) => {
        conn.close(1000, 'done');
        h.link.feed(conn, closeFrame(1000));
        h.reactor.onEnd(conn);
      },
    ],
    [
      "the peer's Close",
      (h, conn) => {
        h.link.feed(conn, closeFrame(1001));
        h.reactor.onEnd(conn);
      },
    ],
    [
      'lost (read error), then EOF',
      (h, conn) => {
        h.reactor.onEnd(conn, ECONNRESET);
        h.reactor.onEnd(conn);
      },
    ],
    [
      'protocol error',
      (h, conn) => {
        h.link.feed(conn, frame(Opcode.Ping | RSV1_BIT, 'x'));
        h.reactor.onEnd(conn);
      },
    ],
    [
      'terminate',
      (_h, conn) => {
        conn.terminate();
        conn.terminate();
      },
    ],
  ];
  for (const [name, end] of endings) {
    const h = fakeReactor({ deflate: 'window' });
    const extension = h.reactor.extension!;
    const released: ConnectionRecord[] = [];
    const release = extension.release.bind(extension);
    extension.release = (conn) => {
      released.push(conn);
      release(conn);
    };
    const conn = h.link.open({ extensions: 'permessage-deflate' });
    const plain = h.link.open();
    assert.notEqual(conn.flags & State.Extension, 0);
    assert.equal(plain.flags & State.Extension, 0);
    end(h, conn);
    end(h, plain);
    assert.deepEqual(released, [conn], name);
    assert.equal(h.seen.closes.length, 2, name);
    const stats = h.reactor.snapshot().deflate;
    assert.deepEqual([stats.sessions, stats.reservedBytes], [0, 0], `${name}: what it held is given back`);
  }
});

test("client: the extension's offer goes in the request, the server's answer goes to accept, and a refusal there fails the connection", () => {
  for (const refuse of [false, true]) {
    const h = fakeReactor({ deflate: 'shared' }, {}, 'client');
    const abandoned = h.seen.abandoned; // filled as connections end
    const extension = h.reactor.extension!;
    const accepted: string[][] = [];
    const accept = extension.accept.bind(extension);
    extension.accept = (conn, extensions) => {
      accepted.push(extensions.map((e) => e.name));
      return refuse ? 'not this one' : accept(conn, extensions);
    };
    const conn = h.link.connectClient();
    const request = h.link.socket(conn).head();
    assert.match(request, new RegExp(`\\r\\nSec-WebSocket-Extensions: ${extension.offer()!}\\r\\n`));
    const key = /\r\nSec-WebSocket-Key: (\S+)\r\n/.exec(request)![1]!;
    h.link.feed(
      conn,
      buildSwitchingProtocols({
        key,
        extensions: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
      }),
    );
    assert.deepEqual(accepted, [['permessage-deflate']]);
    if (refuse) {
      assert.deepEqual([h.seen.opens.length, abandoned.map((a) => a.error.message)], [0, ['not this one']]);
    } else {
      assert.deepEqual([h.seen.opens, abandoned], [[conn], []]);
      assert.notEqual(conn.flags & State.Extension, 0);
    }
  }
});
