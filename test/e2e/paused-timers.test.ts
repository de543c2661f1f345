import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { Connection } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until } from '../support/servers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** A heartbeat that judges within about 2 s: ping after 1 s of silence, dead 1 s later. */
const HEARTBEAT = { pingIntervalMs: 1000, idleTimeoutMs: 2000 };

/** A live raw peer: answers every Ping it reads with a Pong (RawClient itself never does). */
function answerPings(client: RawClient): () => void {
  let seen = 0;
  const timer = setInterval(() => {
    for (; seen < client.frames.length; seen++) {
      const frame = client.frames[seen]!;
      if (frame.opcode === 9) client.send(10, frame.payload);
    }
  }, 20);
  return () => clearInterval(timer);
}

for (const transport of TRANSPORTS) {
  describe(`timers while reading is paused over ${transport}`, () => {
    test('a connection paused by conn.pause() past idleTimeoutMs, peer alive, is not closed and goes on after resume', async () => {
      let paused: Connection | undefined;
      const closes: number[] = [];
      const s = await start(transport, {
        ...HEARTBEAT,
        message(conn, data, isBinary) {
          conn.send(data, isBinary);
          if (paused !== undefined) return;
          paused = conn;
          conn.pause();
        },
        close: (_c, code) => void closes.push(code),
      });
      const client = new WebSocket(s.url); // ws answers pings by itself
      const received: string[] = [];
      client.on('message', (data) => void received.push(String(data)));
      await new Promise((resolve) => client.once('open', resolve));
      client.send('one');
      await until(() => received.length === 1, 3000, 'the first echo');
      client.send('two'); // waits, unread, in the kernel
      await sleep(4500); // paused for two heartbeats (ping + idle) and more
      assert.deepEqual(closes, [], 'not closed while we were not reading');
      paused!.resume();
      await until(() => received.length === 2, 3000, 'the message sent during the pause');
      client.send('three');
      await until(() => received.length === 3, 3000, 'an echo after the resume');
      assert.deepEqual(received, ['one', 'two', 'three']);
      assert.equal(client.readyState, WebSocket.OPEN);
      assert.equal(s.server.stats().idleTimeouts, 0);
      client.close();
      await s.server.close();
    });

    test('a peer that stops reading (backpressure stops ours) past idleTimeoutMs, then reads, is not closed', async () => {
      const s = await start(transport, { ...echo, ...HEARTBEAT, maxBufferedBytes: 1024 * 1024 });
      const client = await RawClient.open(s.port);
      const stopAnswering = answerPings(client);
      client.socket.pause(); // reads nothing: the echoes queue and the server stops reading
      const count = 150_000;
      const frame = client.frame(2, Buffer.alloc(100, 7));
      client.write(Buffer.concat(Array.from({ length: count }, () => frame)));
      await until(() => s.server.stats().readPauses > 0, 5000, 'reading stopped');
      await sleep(4500); // two heartbeats and more without a byte read from the peer
      client.socket.resume();
      const data = (): number => client.frames.filter((f) => f.opcode === 2).length;
      await client.until(() => data() === count, 'every echo', 30_000);
      client.send(2, 'after');
      await client.until(() => data() === count + 1, 'an echo after the pause', 5000);
      assert.ok(!client.ended, 'still connected');
      assert.equal(s.server.stats().idleTimeouts, 0);
      assert.equal(s.server.stats().slowConsumersClosed, 0);
      stopAnswering();
      client.destroy();
      await s.server.close();
    });

    test('a dead peer (never answers a ping) is still dropped, also after a pause and resume', async () => {
      let paused: Connection | undefined;
      const closes: number[] = [];
      const s = await start(transport, {
        ...HEARTBEAT,
        message(conn) {
          paused = conn;
          conn.pause();
        },
        close: (_c, code) => void closes.push(code),
      });
      const dead = await RawClient.open(s.port); // reads, never answers
      await dead.endOfStream(5000); // not paused: dropped after about 2 s
      assert.deepEqual(closes, [1006]);
      assert.equal(s.server.stats().idleTimeouts, 1);

      const late = await RawClient.open(s.port); // sends one message, then is never heard from again
      late.send(2, 'x');
      await until(() => paused !== undefined, 3000, 'the pause');
      await sleep(3500);
      assert.equal(closes.length, 1, 'not judged while paused');
      const resumed = Date.now();
      paused!.resume();
      await late.endOfStream(6000); // the heartbeat starts afresh, then drops it
      // Dropped at once (the next 1 s tick) without the fresh grace; with it, a ping interval and the
      // wait for its Pong, each on the 1 s wheel, so ~1.5–2.5 s.
      assert.ok(Date.now() - resumed >= 1200, `a fresh grace after the resume (${Date.now() - resumed} ms)`);
      await until(() => closes.length === 2, 3000, 'the close handler');
      assert.deepEqual(closes, [1006, 1006], 'dead peers are dropped, not asked to close');
      assert.equal(s.server.stats().idleTimeouts, 2);
      dead.destroy();
      late.destroy();
      await s.server.close();
    });

    test("closing a paused connection reads the peer's Close: no wait for closeTimeoutMs", async () => {
      const closes: [number, string][] = [];
      const s = await start(transport, {
        closeTimeoutMs: 3000,
        message(conn) {
          conn.pause();
          conn.close(1000, 'bye');
          conn.pause(); // a pause after close must not stop the peer's Close from being read either
        },
        close: (_c, code, reason) => void closes.push([code, reason]),
      });
      const client = await RawClient.open(s.port);
      client.send(2, 'x');
      assert.equal(await client.closeCode(3000), 1000);
      const answered = Date.now();
      client.send(8, Buffer.from([0x03, 0xe8, 0x6f, 0x6b])); // 1000 "ok", at once
      await client.endOfStream(5000);
      assert.ok(Date.now() - answered < 1500, `ended when the peer answered (${Date.now() - answered} ms)`);
      await until(() => closes.length === 1, 3000, 'the close handler');
      assert.deepEqual(closes, [[1000, 'ok']], "the peer's answer is reported");
      assert.equal(s.server.stats().closeTimeouts, 0, 'not counted as a peer that never answered');
      client.destroy();
      await s.server.close();
    });
  });
}
