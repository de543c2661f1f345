import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { Connection } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { start, TRANSPORTS, until } from '../support/servers.js';

function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => ws.once('open', () => resolve(ws)).once('error', reject));
}

for (const transport of TRANSPORTS) {
  describe(`server.clients over ${transport}`, () => {
    test('size, forEach and for…of see the open connections, not the handshaking ones', async () => {
      const opened: Connection<{ n: number } | undefined>[] = [];
      let n = 0;
      const s = await start<{ n: number }>(transport, {
        open: (conn) => {
          conn.data = { n: n++ };
          opened.push(conn);
        },
      });
      assert.equal(s.server.clients.size, 0);
      const clients = await Promise.all([openWs(s.url), openWs(s.url), openWs(s.url)]);
      const handshaking = await RawClient.connect(s.port); // TCP up, no upgrade request yet
      await until(() => opened.length === 3 && s.server.connections === 4);
      assert.equal(s.server.clients.size, 3, 'the handshaking one is not a client yet');
      const walked: Connection<{ n: number } | undefined>[] = [];
      s.server.clients.forEach((conn) => walked.push(conn));
      assert.deepEqual(new Set(walked), new Set(opened));
      const iterated = [...s.server.clients];
      assert.deepEqual(new Set(iterated), new Set(opened));
      let sum = 0;
      for (const conn of s.server.clients) sum += conn.data!.n;
      assert.equal(sum, 0 + 1 + 2);
      handshaking.socket.destroy();
      for (const ws of clients) ws.close();
      await until(() => s.server.clients.size === 0, 3000, 'every client to leave');
      assert.deepEqual([...s.server.clients], []);
      await s.server.close();
    });

    test('connections that leave during a walk are skipped, none is visited twice, the count follows', async () => {
      const s = await start(transport, {});
      const clients = await Promise.all(Array.from({ length: 6 }, () => openWs(s.url)));
      await until(() => s.server.clients.size === 6);
      const visited: Connection[] = [];
      s.server.clients.forEach((conn) => {
        visited.push(conn);
        if (visited.length === 1) for (const other of s.server.clients) if (other !== conn) other.terminate(); // a walk inside the walk
      });
      assert.equal(visited.length, 1, 'the others left before their turn');
      assert.equal(s.server.clients.size, 1);
      let seen = 0;
      for (const conn of s.server.clients) {
        seen++;
        conn.terminate();
      }
      assert.equal(seen, 1);
      assert.equal(s.server.clients.size, 0);
      for (const ws of clients) ws.terminate();
      await s.server.close();
    });

    test('a closing connection is still a client until its socket is gone (as in ws)', async () => {
      let conn: Connection | undefined;
      const s = await start(transport, {
        open: (c) => {
          conn = c;
        },
      });
      const ws = await openWs(s.url);
      await until(() => conn !== undefined);
      ws.pause(); // do not answer the Close yet
      conn!.close(1000, 'bye');
      assert.equal(conn!.isOpen, false);
      assert.deepEqual([...s.server.clients], [conn]);
      ws.resume();
      await until(() => s.server.clients.size === 0, 3000, 'the closing handshake');
      await s.server.close();
    });
  });
}
