import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import net from 'node:net';
import { createClient } from '../../src/index.js';
import { acceptKey } from '../../src/protocol/accept-key.js';
import {
  deflateContextBytes,
  inflateContextBytes,
  inflateWindowCopyBytes,
} from '../../src/compression/deflate-budget.js';
import { chatJson, decompress, Decompressor } from '../support/deflate.js';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until, type Started } from '../support/servers.js';

const MODES = ['shared', 'window'] as const;
const BIG = chatJson(100 * 1024);
const OFFER = 'permessage-deflate; client_max_window_bits';

/** A ws client with perMessageDeflate on (its default offer), collecting what it receives. */
async function wsClient(url: string): Promise<{ ws: WebSocket; inbox: (string | Buffer)[] }> {
  const ws = new WebSocket(url, { perMessageDeflate: true });
  const inbox: (string | Buffer)[] = [];
  ws.on('message', (data, isBinary) => void inbox.push(isBinary ? Buffer.from(data as Buffer) : String(data)));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, inbox };
}

async function closeWs(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = new Promise((resolve) => ws.once('close', resolve));
  ws.close(1000);
  await closed;
}

/** Everything a deflate connection held is back: pool buffers, budget, sessions. */
async function allReturned(s: Started): Promise<void> {
  await until(() => s.server.connections === 0, 5000, 'connections gone');
  const stats = s.server.stats();
  assert.equal(stats.pool.lentBuffers, 0, 'pooled buffers back');
  assert.equal(stats.deflate.reservedBytes, 0, 'deflate budget back to zero');
  assert.equal(stats.deflate.sessions, 0);
}

for (const transport of TRANSPORTS) {
  describe(`permessage-deflate over ${transport}`, () => {
    for (const serverMode of MODES) {
      for (const clientMode of MODES) {
        test(`RFC 7692: lightws client (${clientMode}) ↔ server (${serverMode}): negotiated, 100 KiB JSON and binary round-trip`, async () => {
          const s = await start(transport, { ...echo, deflate: serverMode });
          const inbox: [string, boolean][] = [];
          let extensions = '';
          const client = createClient({
            transport,
            deflate: clientMode,
            logLevel: 'silent',
            open: (_conn, response) => void (extensions = response.headers.get('sec-websocket-extensions') ?? ''),
            message: (_conn, data, isBinary) =>
              void inbox.push([isBinary ? data.toString('base64') : data.toString(), isBinary]),
          });
          const conn = await client.connect(s.url);
          assert.match(extensions, /^permessage-deflate/);
          if (serverMode === 'shared' || clientMode === 'shared')
            assert.match(extensions, /server_no_context_takeover/);
          const binary = Buffer.from(BIG.slice(0, 50_000));
          conn.send(BIG);
          conn.send(binary);
          conn.send('small');
          await until(() => inbox.length === 3, 10_000, 'three echoes');
          assert.deepEqual(inbox, [
            [BIG, false],
            [binary.toString('base64'), true],
            ['small', false],
          ]);
          const server = s.server.stats().deflate;
          assert.equal(server.connections, 1);
          assert.equal(server.messagesInflated, 2, 'two messages came compressed; "small" is under the threshold');
          assert.equal(server.messagesCompressed, 2);
          assert.ok(server.bytesAfterCompression * 5 < server.bytesBeforeCompression, 'JSON shrinks 5× or more');
          assert.equal(
            server.sessions,
            serverMode === 'window' && clientMode === 'window' ? 1 : 0,
            'only context takeover holds per-connection state',
          );
          await client.close();
          assert.equal(client.stats().deflate.reservedBytes, 0);
          assert.equal(client.stats().pool.lentBuffers, 0);
          await allReturned(s);
          await s.server.close();
        });
      }

      test(`RFC 7692 interop: the ws client with perMessageDeflate, server mode ${serverMode}`, async () => {
        const s = await start(transport, { ...echo, deflate: serverMode });
        const { ws, inbox } = await wsClient(s.url);
        assert.match(ws.extensions, /^permessage-deflate/);
        ws.send(BIG);
        ws.send(Buffer.from(BIG));
        ws.send('x');
        await until(() => inbox.length === 3, 10_000, 'echoes');
        assert.equal(inbox[0], BIG);
        assert.deepEqual(inbox[1], Buffer.from(BIG));
        assert.equal(inbox[2], 'x');
        await closeWs(ws);
        await allReturned(s);
        await s.server.close();
      });
    }

    test('RFC 7692 §6: below deflateThreshold, and every control frame, go out with RSV1 clear', async () => {
      const s = await start(transport, { ...echo, deflate: 'shared', deflateThreshold: 1000 });
      const client = await RawClient.open(s.port, {}, OFFER);
      assert.match(client.extensions, /^permessage-deflate/);
      const json = chatJson(2000);
      client.send(1, 'tiny');
      client.send(1, json);
      client.send(9, 'ping');
      const frames = await client.frameCount(3);
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.rsv]),
        [
          [1, 0],
          [1, 4],
          [10, 0],
        ],
      );
      assert.equal(frames[0]!.payload.toString(), 'tiny');
      assert.equal(decompress(frames[1]!.payload).toString(), json);
      client.send(8, Buffer.from([0x03, 0xe8]));
      await client.endOfStream();
      assert.equal(client.frames.at(-1)!.rsv, 0, 'Close is never compressed');
      await allReturned(s);
      await s.server.close();
    });

    for (const mode of MODES) {
      test(`broadcast and publish, mode ${mode}: ${mode === 'shared' ? 'compressed once for every' : 'compressed per'} receiver, plain to the others`, async () => {
        const s = await start(transport, { deflate: mode, open: (conn) => conn.subscribe('room') });
        const compressed = await Promise.all([1, 2, 3].map(() => RawClient.open(s.port, {}, OFFER)));
        const plain = await RawClient.open(s.port);
        await until(() => s.server.connections === 4);
        const message = chatJson(4096);
        const before = s.server.stats().deflate.messagesCompressed;
        assert.equal(s.server.broadcast(message), 4);
        assert.equal(s.server.publish('room', message), 4);
        for (const c of compressed) {
          const frames = await c.frameCount(2);
          const inflater = new Decompressor(); // window mode: the second message refers back to the first
          for (const f of frames) {
            assert.equal(f.rsv, 4);
            assert.equal(inflater.inflate(f.payload).toString(), message);
          }
          inflater.close();
        }
        const frames = await plain.frameCount(2);
        assert.deepEqual(
          frames.map((f) => [f.rsv, f.payload.toString() === message]),
          [
            [0, true],
            [0, true],
          ],
        );
        assert.equal(s.server.stats().deflate.messagesCompressed - before, mode === 'shared' ? 2 : 6);
        for (const c of [...compressed, plain]) c.destroy();
        await allReturned(s);
        await s.server.close();
      });
    }

    test('RFC 7692 §5: an offer the server declines is answered without the extension, never refused', async () => {
      const s = await start(transport, { ...echo, deflate: 'shared' });
      const client = await RawClient.open(
        s.port,
        {},
        'permessage-deflate; server_max_window_bits=8, permessage-deflate; foo=1',
      );
      assert.equal(client.extensions, '');
      client.send(1, BIG);
      assert.equal((await client.frameCount(1))[0]!.rsv, 0);
      client.destroy();
      await allReturned(s);
      await s.server.close();
    });

    test('the deflate budget: past maxDeflateBytes new connections get no extension; the budget returns to zero', async () => {
      // A server's window session: both contexts and its copy of the inflate window (for a handover).
      const one = deflateContextBytes(12, 8) + inflateContextBytes(12) + inflateWindowCopyBytes(12);
      const s = await start(transport, { ...echo, deflate: 'window', maxDeflateBytes: one });
      const first = await wsClient(s.url);
      const second = await wsClient(s.url);
      assert.match(first.ws.extensions, /^permessage-deflate/);
      assert.equal(second.ws.extensions, '', 'the second is accepted without the extension');
      for (const c of [first, second]) c.ws.send(BIG);
      await until(() => first.inbox.length === 1 && second.inbox.length === 1, 10_000, 'both echo');
      assert.equal(first.inbox[0], BIG);
      assert.equal(second.inbox[0], BIG);
      const stats = s.server.stats().deflate;
      assert.deepEqual(
        [stats.declinedForBudget, stats.reservedBytes, stats.sessions, stats.maxBytes],
        [1, one, 1, one],
      );
      await closeWs(first.ws);
      await until(() => s.server.stats().deflate.reservedBytes === 0, 5000, 'the reservation returned');
      const third = await wsClient(s.url);
      assert.match(third.ws.extensions, /^permessage-deflate/, 'room again once the first left');
      await closeWs(second.ws);
      await closeWs(third.ws);
      await allReturned(s);
      await s.server.close();
    });

    test('the client role fails a connection whose permessage-deflate answer it may not accept (RFC 7692 §7.1.1.1)', async () => {
      // A server that accepts without server_no_context_takeover, which a shared client asked for.
      const fake = net.createServer((socket) => {
        socket.once('data', (head) => {
          const key = /sec-websocket-key: *(\S+)/i.exec(head.toString('latin1'))![1]!;
          socket.end(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n\r\n`,
          );
        });
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      const client = createClient({ transport, deflate: 'shared', logLevel: 'silent' });
      await assert.rejects(
        client.connect(`ws://127.0.0.1:${(fake.address() as net.AddressInfo).port}`),
        /server_no_context_takeover \(RFC 7692 §7\.1\.1\.1\)/,
      );
      assert.equal(client.stats().deflate.reservedBytes, 0);
      await client.close();
      await new Promise((resolve) => fake.close(resolve));
    });

    test('a client with deflate talks plainly to a server without it', async () => {
      const s = await start(transport, echo);
      const inbox: string[] = [];
      const client = createClient({
        transport,
        deflate: 'window',
        logLevel: 'silent',
        message: (_c, data) => void inbox.push(data.toString()),
      });
      const conn = await client.connect(s.url);
      conn.send(BIG);
      await until(() => inbox.length === 1, 10_000, 'the echo');
      assert.equal(inbox[0], BIG);
      assert.equal(client.stats().deflate.connections, 0);
      await client.close();
      await s.server.close();
    });
  });
}
