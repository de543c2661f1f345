import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SendResult, type Connection } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until } from '../support/servers.js';

for (const transport of TRANSPORTS) {
  describe(`peers that vanish over ${transport}`, () => {
    test('RST in the middle of a frame: 1006 reported, partial frame returned to the pool', async () => {
      const closes: number[] = [];
      const s = await start(transport, { ...echo, close: (_c, code) => void closes.push(code) });
      const client = await RawClient.open(s.port);
      client.write(client.frame(2, Buffer.alloc(50000, 1)).subarray(0, 20000));
      await until(() => s.server.stats().readingNow === 1, 3000, 'the partial frame');
      client.socket.resetAndDestroy();
      await until(() => closes.length === 1, 3000, 'the close handler');
      assert.deepEqual(closes, [1006]);
      assert.equal(s.server.stats().pool.lentBuffers, 0);
      await s.server.close();
    });

    test('RST in the middle of a write: queued buffers are returned, sends after it are dropped', async () => {
      let conn: Connection | undefined;
      const closes: number[] = [];
      const s = await start(transport, {
        open: (c) => {
          conn = c;
        },
        close: (_c, code) => void closes.push(code),
      });
      const client = await RawClient.open(s.port);
      client.socket.pause();
      await until(() => conn !== undefined);
      const chunk = Buffer.alloc(128 * 1024, 2);
      for (let i = 0; i < 60 && conn!.bufferedAmount === 0; i++) conn!.send(chunk);
      conn!.send(chunk);
      assert.ok(conn!.bufferedAmount > 0, 'a write is in flight');
      client.socket.resetAndDestroy();
      await until(() => closes.length === 1, 5000, 'the close handler');
      assert.deepEqual(closes, [1006]);
      assert.equal(conn!.send('after'), SendResult.Dropped);
      await until(
        () => s.server.stats().pool.lentBuffers === 0,
        3000,
        'in-flight buffers back after the cancelled write',
      );
      assert.equal(s.server.stats().writingNow, 0);
      await s.server.close();
    });

    test('a half-close (FIN) after a message: the message is handled, then the connection ends', async () => {
      const got: string[] = [];
      const closes: number[] = [];
      const s = await start(transport, {
        message: (_c, d) => void got.push(d.toString()),
        close: (_c, code) => void closes.push(code),
      });
      const client = await RawClient.open(s.port);
      client.send(1, 'last words');
      client.socket.end();
      await until(() => closes.length === 1, 3000, 'the close');
      assert.deepEqual(got, ['last words']);
      assert.deepEqual(closes, [1006], 'no closing handshake: abnormal closure');
      await client.endOfStream();
      await s.server.close();
    });

    test('a peer that vanishes during the handshake leaves nothing behind', async () => {
      const s = await start(transport, echo);
      for (let i = 0; i < 20; i++) {
        const client = await RawClient.connect(s.port);
        client.write(client.request().slice(0, 40 + i));
        if (i % 2) client.socket.resetAndDestroy();
        else client.socket.end();
      }
      await until(() => s.server.stats().handshaking === 0, 3000, 'all gone');
      assert.equal(s.server.stats().pool.lentBuffers, 0);
      await s.server.close();
    });
  });
}
