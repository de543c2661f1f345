import type { HandshakeRequest } from '../../../src/api/handlers.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeflateSession } from '../../../src/compression/deflate-session.js';
import { Opcode } from '../../../src/protocol/opcode.js';
import { Rsv } from '../../../src/protocol/frame-header.js';
import { EXTENSION_MASK, EXTENSION_SHIFT, State } from '../../../src/reactor/connection/connection-state.js';
import { PermessageDeflate } from '../../../src/reactor/extensions/deflate-extension.js';
import type { Inbound } from '../../../src/reactor/read/inbound.js';
import { chatJson, compress, decompress, RSV1 } from '../../support/deflate.js';
import { CLEAN, fakeReactor, frame, leftovers } from '../../support/fake-link.js';

const OFFER = 'permessage-deflate; client_max_window_bits';

test('shared mode: a connection that negotiated permessage-deflate holds no zlib state, only a flag bit', () => {
  const h = fakeReactor({ deflate: 'shared' });
  const conn = h.link.open({ extensions: OFFER });
  assert.match(
    h.link.socket(conn).head(),
    /\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n/,
  );
  assert.notEqual(conn.flags & State.Extension, 0);
  assert.equal(conn.extras, null, 'no extras: nothing per connection');
  // Traffic both ways leaves nothing behind either.
  const json = chatJson(3000);
  h.link.feed(conn, frame(Opcode.Text | RSV1, compress(json)));
  assert.equal(h.seen.messages[0]!.data.toString(), json);
  conn.send(json);
  const sent = h.link.socket(conn).frames().at(-1)!;
  assert.equal(sent.rsv, 4);
  assert.equal(decompress(sent.payload).toString(), json);
  assert.equal(conn.extras, null);
  assert.equal(
    h.reactor.snapshot().deflate.contexts,
    2,
    'one shared compressor and one decompressor for the whole reactor',
  );
  assert.deepEqual(leftovers(h), CLEAN);
});

test('window mode: the session is in extras, its contexts appear when each direction is first used and go at the end', () => {
  const h = fakeReactor({ deflate: 'window' });
  const conn = h.link.open({ extensions: OFFER });
  const session = conn.extras?.extension as DeflateSession | null | undefined;
  assert.ok(session);
  assert.deepEqual(
    [session.sendBits, session.receiveBits, session.sendContext, session.receiveContext],
    [12, 12, null, null],
  );
  const stats = h.reactor.snapshot().deflate;
  assert.deepEqual([stats.sessions, stats.contexts, stats.reservedBytes > 0], [1, 0, true]);
  conn.send(chatJson(2000));
  assert.notEqual(session.sendContext, null);
  assert.equal(session.receiveContext, null, 'nothing received yet');
  conn.terminate();
  assert.deepEqual([h.reactor.snapshot().deflate.contexts, h.reactor.snapshot().deflate.reservedBytes], [0, 0]);
  assert.deepEqual(leftovers(h), CLEAN);
});

test('without an offer, or with deflate off, a connection is plain and RSV1 is a protocol error (RFC 6455 §5.2)', () => {
  for (const h of [fakeReactor({ deflate: 'shared' }), fakeReactor()]) {
    const conn = h.link.open(h.reactor.extension === null ? { extensions: OFFER } : {});
    assert.doesNotMatch(h.link.socket(conn).head(), /Sec-WebSocket-Extensions/);
    assert.equal(conn.flags & State.Extension, 0);
    h.link.feed(conn, frame(Opcode.Text | RSV1, compress('x')));
    assert.equal(
      h.seen.closes.length +
        h.link
          .socket(conn)
          .frames()
          .filter((f) => f.opcode === Opcode.Close).length >
        0,
      true,
    );
    assert.equal(
      h.link
        .socket(conn)
        .frames()
        .find((f) => f.opcode === Opcode.Close)!
        .payload.readUInt16BE(0),
      1002,
    );
  }
});

test("permessage-deflate is the reactor's extension: it owns RSV1, its connections are read with exactly that bit allowed", () => {
  const h = fakeReactor({ deflate: 'shared' });
  const extension = h.reactor.extension;
  assert.ok(extension instanceof PermessageDeflate);
  assert.deepEqual([extension.name, extension.rsv], ['permessage-deflate', Rsv.One]);
  const inbound = (h.reactor as unknown as { inbound: Inbound<HandshakeRequest> }).inbound;
  assert.deepEqual([inbound.config.allowedRsv, inbound.extendedConfig.allowedRsv], [0, Rsv.One]);
  assert.equal(fakeReactor().reactor.extension, null, 'deflate off: no extension at all');
});

test("the shared compressor's window a connection needs is kept in the extension's bits of its flags", () => {
  const h = fakeReactor({ deflate: 'shared' });
  const usual = h.link.open({ extensions: OFFER });
  const small = h.link.open({ extensions: `${OFFER}; server_max_window_bits=10` });
  assert.match(h.link.socket(small).head(), /server_max_window_bits=10/);
  assert.equal((usual.flags & EXTENSION_MASK) >>> EXTENSION_SHIFT, 0, '15, the usual');
  assert.equal((small.flags & EXTENSION_MASK) >>> EXTENSION_SHIFT, 15 - 10);
  assert.deepEqual([usual.extras, small.extras], [null, null]);
});
