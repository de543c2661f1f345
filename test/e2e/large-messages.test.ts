import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until } from '../support/servers.js';

const MiB = 1 << 20;

function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { maxPayload: 64 * MiB });
  return new Promise((resolve, reject) => ws.once('open', () => resolve(ws)).once('error', reject));
}

function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
}

/** `size` bytes that differ from one echo to the next. */
function payloadOf(size: number, seed: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4093) payload[i] = (i * 31 + seed) & 0xff;
  return payload;
}

for (const transport of TRANSPORTS) {
  describe(`large messages over ${transport}`, () => {
    test('a 1 MiB message that arrives in many reads is gathered in one pooled 1 MiB buffer, no fresh allocation', async () => {
      const digests: string[] = [];
      const { server, port } = await start(transport, {
        message: (_conn, data) => void digests.push(createHash('sha256').update(data).digest('hex')),
      });
      const client = await RawClient.open(port);
      try {
        const payload = Buffer.alloc(MiB);
        for (let i = 0; i < payload.length; i += 997) payload[i] = i & 0xff;
        client.send(0x2, payload);
        await until(() => digests.length === 1, 10_000, 'the message');
        assert.equal(digests[0], createHash('sha256').update(payload).digest('hex'));
        const pool = server.stats().pool;
        assert.equal(pool.oversize, 0, 'the payload alone fits the 1 MiB class (with its header it did not)');
        assert.ok(pool.peakLentBytes <= MiB + 64 * 1024, `peak ${pool.peakLentBytes}`);
        assert.equal(pool.lentBuffers, 0);
      } finally {
        client.socket.destroy();
        await server.close({ timeoutMs: 500 });
      }
    });

    test('a 64 KiB message comes in one read with its header and is parsed where it lies: nothing borrowed', async () => {
      const { server, url } = await start(transport, echo);
      const ws = await openWs(url);
      try {
        const count = 40;
        for (let i = 0; i < count; i++) {
          const payload = payloadOf(64 * 1024, i);
          const got = nextMessage(ws);
          ws.send(payload);
          assert.ok((await got).equals(payload), `echo ${i}`);
        }
        const pool = server.stats().pool;
        // A net.Socket reads at most 64 KiB: over the socket transport the frame is still gathered.
        if (transport === 'handle')
          assert.ok(pool.borrows < count / 2, `${pool.borrows} borrows for ${count} messages (one each when split)`);
        assert.equal(pool.lentBuffers, 0);
      } finally {
        ws.terminate();
        await server.close({ timeoutMs: 500 });
      }
    });

    test('an echoed 16 MiB message: what the kernel does not take is written from the message buffer, no copy', async () => {
      const { server, url } = await start(transport, { ...echo, maxBufferedBytes: 32 * MiB });
      const ws = await openWs(url);
      try {
        const payload = payloadOf(16 * MiB, 1);
        ws.pause(); // the answer cannot all go to the kernel: most of it waits in the server
        ws.send(payload);
        await until(() => server.stats().messagesOut === 1, 20_000, 'the echo sent');
        const pending = server.stats();
        assert.equal(pending.writingNow, 1, 'the answer is still being written');
        assert.equal(pending.pool.lentBuffers, 1, 'the message buffer alone: no copy of the rest');
        assert.equal(pending.pool.oversize, 1, 'one large buffer: the gathered message');
        const got = nextMessage(ws);
        ws.resume();
        assert.ok((await got).equals(payload), 'the echo is intact');
        await until(() => server.stats().pool.lentBuffers === 0, 5_000, 'the message buffer back once written');
      } finally {
        ws.terminate();
        await server.close({ timeoutMs: 500 });
      }
    });

    test('16 MiB messages one after another reuse the same warm buffers: no fresh allocation after the first', async () => {
      const { server, url } = await start(transport, { ...echo, maxBufferedBytes: 32 * MiB });
      const ws = await openWs(url);
      try {
        let misses = 0;
        for (let i = 0; i < 3; i++) {
          const payload = payloadOf(16 * MiB, i);
          const got = nextMessage(ws);
          ws.send(payload);
          assert.ok((await got).equals(payload), `echo ${i}`);
          await until(() => server.stats().pool.lentBuffers === 0, 5_000, 'every buffer back');
          if (i > 0) assert.equal(server.stats().pool.misses, misses, `message ${i} allocated nothing`);
          misses = server.stats().pool.misses;
        }
      } finally {
        ws.terminate();
        await server.close({ timeoutMs: 500 });
      }
    });

    test('a handler that sends its message reads it intact until it returns, sends it twice, ends the connection', async () => {
      const digests: string[] = [];
      const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
      const { server, url } = await start(transport, {
        maxBufferedBytes: 64 * MiB,
        message(conn, data) {
          conn.send(data);
          digests.push(sha(data)); // after the send, whose rest waits in the message buffer
          conn.send(data); // the buffer is shared with the first write already: this one copies
          if (data[0] === 1) conn.terminate(); // the write is cancelled: the handler still holds data
          digests.push(sha(data)); // a buffer given back early would read as garbage here (pool debugging poisons it)
        },
      });
      const ws = await openWs(url);
      try {
        ws.pause();
        const payload = payloadOf(8 * MiB, 0);
        ws.send(payload);
        await until(() => digests.length === 2, 20_000, 'the message');
        assert.deepEqual(digests, [sha(payload), sha(payload)]);
        const got = [nextMessage(ws)];
        ws.resume();
        assert.ok((await got[0]!).equals(payload), 'the first echo');
        assert.ok((await nextMessage(ws)).equals(payload), 'the second echo');
        payload[0] = 1; // this one ends the connection after sending
        ws.pause();
        ws.send(payload);
        await until(() => digests.length === 4, 20_000, 'the second message');
        assert.deepEqual(digests.slice(2), [sha(payload), sha(payload)]);
        await until(() => server.stats().connections === 0, 5_000, 'the connection ended');
        await until(() => server.stats().pool.lentBuffers === 0, 5_000, 'every buffer back, once');
      } finally {
        ws.terminate();
        await server.close({ timeoutMs: 500 });
      }
    });

    test('a header that claims 16 MiB followed by one byte reserves no more than 64 KiB', async () => {
      const { server, port } = await start(transport, {});
      const client = await RawClient.open(port);
      try {
        const header = Buffer.alloc(2 + 8 + 4 + 1);
        header[0] = 0x82; // FIN, binary
        header[1] = 0x80 | 127; // masked, 64-bit length
        header.writeBigUInt64BE(BigInt(16 * MiB), 2);
        header.writeUInt32BE(0x01020304, 10);
        client.socket.write(header);
        await until(() => server.stats().pool.lentBuffers === 1, 5_000, 'the partial frame');
        const pool = server.stats().pool;
        assert.ok(pool.lentBytes <= 64 * 1024, `lent ${pool.lentBytes}`);
      } finally {
        client.socket.destroy();
        await until(() => server.stats().pool.lentBuffers === 0, 5_000, 'the buffer back');
        await server.close({ timeoutMs: 500 });
      }
    });
  });
}
