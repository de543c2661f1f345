import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { CloseCode, type Connection } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { start, TRANSPORTS, until } from '../support/servers.js';

/** A ws client that keeps every text message it receives. */
async function member(url: string, deflate = false): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = new WebSocket(url, { perMessageDeflate: deflate ? { threshold: 0 } : false });
  const got: string[] = [];
  ws.on('message', (data: Buffer) => got.push(data.toString()));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return { ws, got };
}

/**
 * The room every test uses: `N` from a member publishes `name:N` to the
 * room (sender included), then sends `ack:N` to the sender and `dm:N` to
 * the member named in `to`, so each member's stream interleaves publishes
 * and direct sends in an order the test knows.
 */
function roomServer(to: () => Connection | undefined) {
  return {
    open(conn: Connection) {
      conn.subscribe('room');
    },
    message(conn: Connection, data: Buffer) {
      const n = data.toString();
      conn.publish('room', `pub:${n}`);
      conn.send(`pub:${n}`); // publish skips the sender: it hears its own line as a direct send
      conn.send(`ack:${n}`);
      to()?.send(`dm:${n}`);
    },
  };
}

for (const transport of TRANSPORTS) {
  describe(`fan-out over ${transport}: what a turn sends goes out per connection, in order`, () => {
    for (const deflate of [false, true]) {
      test(`publishes and direct sends keep their order for every member${deflate ? ', with permessage-deflate' : ''}`, async () => {
        const dm: { target?: Connection } = {}; // set once the members are in
        const s = await start(transport, {
          ...roomServer(() => dm.target),
          ...(deflate ? { deflate: 'shared' as const, deflateThreshold: 0 } : {}),
        });
        const members = await Promise.all(Array.from({ length: 4 }, () => member(s.url, deflate)));
        await until(() => s.server.clients.size === 4);
        dm.target = [...s.server.clients][1];
        const count = 300;
        // Sent back to back: the server reads many of them at once, and answers within one turn.
        for (let i = 0; i < count; i++) members[0]!.ws.send(String(i));
        await until(
          () => members.every((m) => m.got.length >= count * (m === members[0] ? 2 : 1)),
          10_000,
          'every line',
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        const pubs = Array.from({ length: count }, (_, i) => `pub:${i}`);
        assert.deepEqual(
          members[0]!.got,
          pubs.flatMap((p, i) => [p, `ack:${i}`]),
        );
        // The member the direct sends go to (whichever ws client it is) gets pub:N then dm:N; the others pub:N only.
        const withDm = pubs.flatMap((p, i) => [p, `dm:${i}`]);
        const others = members.slice(1).map((m) => m.got);
        assert.equal(
          others.filter((got) => JSON.stringify(got) === JSON.stringify(withDm)).length,
          dm.target === undefined ? 0 : 1,
        );
        assert.equal(others.filter((got) => JSON.stringify(got) === JSON.stringify(pubs)).length, 2);
        assert.deepEqual(s.errors, []);
        for (const m of members) m.ws.close();
        await s.server.close();
      });
    }

    test('a member that vanishes in the middle of a busy turn is dropped alone; the others get everything', async () => {
      const s = await start(
        transport,
        roomServer(() => undefined),
      );
      const members = await Promise.all(Array.from({ length: 3 }, () => member(s.url)));
      const vanishing = await RawClient.open(s.port);
      await until(() => s.server.clients.size === 4);
      for (let i = 0; i < 200; i++) {
        members[0]!.ws.send(String(i));
        if (i === 100) vanishing.destroy();
      }
      await until(() => members[1]!.got.length === 200 && members[2]!.got.length === 200, 10_000, 'every line');
      await until(() => s.server.clients.size === 3, 5000, 'the vanished member to be gone');
      assert.deepEqual(
        members[1]!.got,
        Array.from({ length: 200 }, (_, i) => `pub:${i}`),
      );
      assert.deepEqual(s.errors, []);
      for (const m of members) m.ws.close();
      await s.server.close();
    });

    test('maxBufferedBytes holds for each receiver of a busy turn: a member that never reads is closed (1008), the others are not', async () => {
      const closes: number[] = [];
      const s = await start(transport, {
        open: (conn) => conn.subscribe('room'),
        message: (conn, data) => void conn.publish('room', data), // the sender is not sent anything
        maxBufferedBytes: 256 * 1024,
        closeTimeoutMs: 500, // the stuck member never answers our Close
        close: (_conn, code) => void closes.push(code),
      });
      const members = await Promise.all(Array.from({ length: 2 }, () => member(s.url)));
      const stuck = await RawClient.open(s.port);
      stuck.socket.pause(); // never reads: the kernel's buffers fill, then the server's bound is reached
      await until(() => s.server.clients.size === 3);
      const line = 'x'.repeat(1000);
      const count = 20_000; // 20 MB: more than loopback's socket buffers hold
      // In steps of 100 lines (100 KB, under the bound), each step sent once the reading member has
      // the one before: it reads in this process, so a burst of 20 MB would outrun it on a busy
      // machine, and it would rightly be closed as a slow consumer too. The stuck member gets it all.
      for (let step = 0; step < count; step += 100) {
        for (let i = step; i < step + 100; i++) members[0]!.ws.send(`${i}${line}`);
        await until(() => members[1]!.got.length === step + 100, 30_000, `lines ${step}.. to the reading member`);
      }
      await until(() => closes.includes(CloseCode.PolicyViolation), 10_000, 'the stuck member to be closed');
      assert.deepEqual(closes, [CloseCode.PolicyViolation], 'only the one that does not read');
      assert.equal(s.server.clients.size, 2);
      assert.ok(s.server.stats().pool.lentBytes < 4 * 1024 * 1024, `${s.server.stats().pool.lentBytes} B lent`);
      stuck.destroy();
      for (const m of members) m.ws.close();
      await s.server.close();
    });
  });
}
