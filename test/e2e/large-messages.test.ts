import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RawClient } from '../support/raw-client.js';
import { start, TRANSPORTS, until } from '../support/servers.js';

const MiB = 1 << 20;

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
