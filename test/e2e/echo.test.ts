import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until, type Started } from '../support/servers.js';

function openWs(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024, ...options });
  return new Promise((resolve, reject) => ws.once('open', () => resolve(ws)).once('error', reject));
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })));
}

for (const transport of TRANSPORTS) {
  describe(`echo over ${transport}`, () => {
    let s: Started;
    before(async () => {
      s = await start(transport, { ...echo, maxMessageSize: 32 * 1024 * 1024 });
    });
    after(async () => {
      await s.server.close({ timeoutMs: 1000 });
    });

    test('§5.6: text and binary of 0 B … 16 MiB echo intact (ws client)', async () => {
      const ws = await openWs(s.url);
      for (const size of [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20]) {
        const binary = Buffer.alloc(size);
        for (let i = 0; i < size; i += 4093) binary[i] = (i * 31) & 0xff;
        ws.send(binary);
        const got = await nextMessage(ws);
        assert.equal(got.isBinary, true);
        assert.ok(got.data.equals(binary), `binary ${size} B`);
      }
      const text = 'héllo wörld ✓ 🙂 '.repeat(5000);
      ws.send(text);
      const got = await nextMessage(ws);
      assert.equal(got.isBinary, false);
      assert.equal(got.data.toString(), text);
      ws.close();
      await until(() => s.server.stats().connections === 0, 5000, 'the close');
      assert.equal(s.server.stats().pool.lentBuffers, 0, 'the pool is balanced');
    });

    test('1,000 concurrent clients each echo their own messages', async () => {
      const clients = await Promise.all(Array.from({ length: 1000 }, () => openWs(s.url)));
      assert.equal(s.server.stats().connections, 1000);
      const replies = clients.map((ws, i) => {
        const got = nextMessage(ws);
        ws.send(`client ${i}`);
        return got;
      });
      const results = await Promise.all(replies);
      results.forEach((r, i) => assert.equal(r.data.toString(), `client ${i}`));
      assert.equal(s.server.stats().pool.lentBuffers, 0, 'idle connections hold no buffer');
      for (const ws of clients) ws.close();
      await until(() => s.server.stats().connections === 0, 10000, 'all closed');
      assert.equal(s.server.stats().pool.lentBuffers, 0, 'the pool is balanced after all connections close');
    });

    test('§4.1/§5.2: handshake and frames arriving one byte at a time', async () => {
      const client = await RawClient.connect(s.port);
      await client.trickle(Buffer.from(client.request()));
      await client.until(() => client.response.startsWith('HTTP/1.1 101'), 'the 101');
      await client.trickle(Buffer.concat([client.frame(1, 'slow'), client.frame(2, Buffer.alloc(300, 9))]));
      const frames = await client.frameCount(2);
      assert.equal(frames[0]!.payload.toString(), 'slow');
      assert.deepEqual(frames[1]!.payload, Buffer.alloc(300, 9));
      client.destroy();
    });

    test('§4.1: the handshake and the first frames in one packet', async () => {
      const client = await RawClient.connect(s.port);
      client.write(Buffer.concat([Buffer.from(client.request()), client.frame(1, 'first'), client.frame(1, 'second')]));
      const frames = await client.frameCount(2);
      assert.deepEqual(
        frames.map((f) => f.payload.toString()),
        ['first', 'second'],
      );
      client.destroy();
    });

    test('§5.4/§5.5.2: fragments with interleaved pings: pongs come back, the message reassembles', async () => {
      const client = await RawClient.open(s.port);
      client.write(
        Buffer.concat([
          client.frame(1, 'frag', false),
          client.frame(9, 'ping-1'),
          client.frame(0, 'men', false),
          client.frame(9, 'ping-2'),
          client.frame(0, 'ted'),
        ]),
      );
      const frames = await client.frameCount(3);
      assert.deepEqual(
        frames.map((f) => [f.opcode, f.payload.toString()]),
        [
          [10, 'ping-1'],
          [10, 'ping-2'],
          [1, 'fragmented'],
        ],
      );
      client.destroy();
    });

    test('a partial frame borrows a pooled buffer only until it completes; idle holds none', async () => {
      const client = await RawClient.open(s.port);
      const frame = client.frame(2, Buffer.alloc(5000, 1));
      client.write(frame.subarray(0, 2000));
      await until(() => s.server.stats().readingNow === 1, 2000, 'the partial frame');
      assert.ok(s.server.stats().pool.lentBuffers >= 1);
      client.write(frame.subarray(2000));
      await client.frameCount(1);
      await until(() => s.server.stats().pool.lentBuffers === 0, 2000, 'the buffer to go back');
      assert.equal(s.server.stats().readingNow, 0);
      client.destroy();
    });
  });
}
