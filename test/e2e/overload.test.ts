import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SendResult, type Connection } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until } from '../support/servers.js';

for (const transport of TRANSPORTS) {
  describe(`heartbeats and overload over ${transport}`, () => {
    test('heartbeats: a peer that answers pings stays; one that never answers is dropped as dead', async () => {
      const closes: number[] = [];
      const s = await start(transport, {
        pingIntervalMs: 1000,
        idleTimeoutMs: 2500,
        close: (_c, code) => void closes.push(code),
      });
      const alive = new WebSocket(s.url); // ws answers pings by itself
      await new Promise((resolve) => alive.once('open', resolve));
      const silent = await RawClient.open(s.port); // reads, never answers
      await silent.until(() => silent.frames.some((f) => f.opcode === 9), 'a heartbeat ping', 4000);
      await silent.endOfStream(6000);
      await until(() => closes.length === 1, 3000, 'the close handler');
      assert.deepEqual(closes, [1006], 'dead peers are dropped, not asked to close');
      assert.ok(s.server.stats().pingsSent >= 2);
      assert.equal(alive.readyState, WebSocket.OPEN, 'the answering peer is still connected');
      alive.close();
      await s.server.close();
    });

    test('idleTimeoutMs also ends a peer that went silent in the middle of a frame (found by the fuzzer)', async () => {
      const s = await start(transport, { idleTimeoutMs: 2000 });
      const client = await RawClient.open(s.port);
      client.write(client.frame(2, Buffer.alloc(60000, 1)).subarray(0, 40000)); // fast enough for minMessageRate, then nothing
      const started = Date.now();
      assert.equal(await client.closeCode(8000), 1001);
      assert.ok(
        Date.now() - started < 8000,
        `closed at the idle timeout (2 s + a tick), not when the rate guard would (~39 s) (${Date.now() - started} ms)`,
      );
      client.destroy();
      await until(() => s.server.stats().pool.lentBuffers === 0, 3000, 'the partial frame buffer back');
      await s.server.close();
    });

    test('idleTimeoutMs without pings closes a silent connection with 1001', async () => {
      const s = await start(transport, { idleTimeoutMs: 1500 });
      const client = await RawClient.open(s.port);
      assert.equal(await client.closeCode(5000), 1001);
      assert.equal(s.server.stats().idleTimeouts, 1);
      client.destroy();
      await s.server.close();
    });

    test("backpressure 'drop': sends past maxBufferedBytes are refused and counted, memory stays bounded", async () => {
      let conn: Connection | undefined;
      const s = await start(transport, {
        maxBufferedBytes: 256 * 1024,
        backpressure: 'drop',
        open: (c) => {
          conn = c;
        },
      });
      const client = await RawClient.open(s.port);
      client.socket.pause();
      await until(() => conn !== undefined);
      const chunk = Buffer.alloc(64 * 1024, 1);
      const results = Array.from({ length: 400 }, () => conn!.send(chunk));
      assert.ok(results.includes(SendResult.Dropped), 'some sends were dropped');
      assert.ok(conn!.bufferedAmount <= 256 * 1024 + chunk.length + 14, `bounded: ${conn!.bufferedAmount}`);
      assert.ok(s.server.stats().sendsDropped > 0);
      assert.ok(conn!.isOpen, "'drop' keeps the connection");
      client.destroy();
      await s.server.close();
    });

    test("backpressure 'close': a slow consumer past maxBufferedBytes is closed with 1008", async () => {
      const closes: number[] = [];
      let conn: Connection | undefined;
      const s = await start(transport, {
        maxBufferedBytes: 256 * 1024,
        closeTimeoutMs: 1000,
        open: (c) => {
          conn = c;
        },
        close: (_c, code) => void closes.push(code),
      });
      const client = await RawClient.open(s.port);
      client.socket.pause();
      await until(() => conn !== undefined);
      const chunk = Buffer.alloc(64 * 1024, 1);
      let result: number = SendResult.Written;
      for (let i = 0; i < 400 && result !== SendResult.Dropped; i++) result = conn!.send(chunk);
      assert.equal(result, SendResult.Dropped);
      await until(() => closes.length === 1, 5000, 'the close');
      assert.deepEqual(closes, [1008]);
      assert.equal(s.server.stats().slowConsumersClosed, 1);
      client.destroy();
      await until(() => s.server.stats().pool.lentBuffers === 0, 3000, 'buffers back');
      await s.server.close();
    });

    test('a peer that sends but does not read: reading pauses, memory stays bounded, nothing is lost', async () => {
      const s = await start(transport, { ...echo, maxBufferedBytes: 1 << 20 });
      const client = await RawClient.open(s.port);
      client.socket.pause(); // we read nothing for now
      const message = Buffer.alloc(16 * 1024, 7);
      const count = 400; // 6.4 MB of echoes: far more than the kernel buffers and the 1 MiB cap
      const frames = Buffer.concat(Array.from({ length: count }, () => client.frame(2, message)));
      client.write(frames);
      await until(() => s.server.stats().readPauses >= 1, 5000, 'reading to pause');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(
        s.server.stats().bufferedBytes <= (1 << 20) + message.length + 16,
        `bounded: ${s.server.stats().bufferedBytes}`,
      );
      client.socket.resume();
      await client.frameCount(count, 20000);
      assert.ok(
        client.frames.slice(0, count).every((f) => f.opcode === 2 && f.payload.equals(message)),
        'every echo, in order',
      );
      assert.equal(s.server.stats().slowConsumersClosed, 0, 'no one was closed: reading paused instead');
      client.destroy();
      await s.server.close();
    });

    test('memory budget: the largest queue is shed and the budget is never exceeded', async () => {
      const budget = 2 * 1024 * 1024;
      const conns: Connection[] = [];
      const s = await start(transport, {
        maxMemoryBytes: budget,
        maxBufferedBytes: 16 << 20,
        open: (c) => void conns.push(c),
      });
      const slow = await Promise.all([0, 1, 2].map(() => RawClient.open(s.port)));
      for (const client of slow) client.socket.pause();
      await until(() => conns.length === 3);
      const chunk = Buffer.alloc(128 * 1024, 1);
      for (let i = 0; i < 40; i++) for (const conn of conns) conn.send(chunk);
      const stats = s.server.stats();
      assert.ok(stats.pool.peakLentBytes <= budget, `peak ${stats.pool.peakLentBytes} within ${budget}`);
      assert.ok(stats.memoryShed >= 1, 'a connection was shed');
      for (const client of slow) client.destroy();
      await until(() => s.server.stats().pool.lentBuffers === 0, 5000, 'buffers back');
      await s.server.close();
    });

    test('memory budget: near it, new connections get 503 before anything is read', async () => {
      // Three peers each hold most of a 900 KiB frame: partial frames stay in pooled 1 MiB buffers.
      const budget = 3.3 * 1024 * 1024;
      const s = await start(transport, { maxMemoryBytes: Math.floor(budget) });
      const peers = await Promise.all([0, 1, 2].map(() => RawClient.open(s.port)));
      for (const peer of peers) peer.write(peer.frame(2, Buffer.alloc(900 * 1024, 5)).subarray(0, 800 * 1024));
      await until(() => s.server.stats().pool.lentBytes >= 3 * 1024 * 1024, 5000, 'three partial frames held');
      assert.ok(s.server.stats().pool.lentBytes >= 0.9 * budget);
      const late = await RawClient.connect(s.port);
      late.write(late.request());
      await late.until(() => late.response !== '' || late.ended, 'an answer');
      assert.match(late.response, /^HTTP\/1.1 503 /);
      assert.equal(s.server.stats().connectionsRefused, 1);
      for (const peer of [...peers, late]) peer.destroy();
      await until(() => s.server.stats().pool.lentBuffers === 0, 5000, 'buffers back');
      await s.server.close();
    });
  });
}

for (const transport of TRANSPORTS) {
  describe(`slowloris over ${transport}`, () => {
    test('500 half-open handshakes are closed on time while other clients keep echoing', async () => {
      // 3 s: on a busy machine opening 500 connections can take longer than 1 s, and the first
      // would time out before the last is open.
      const s = await start(transport, { ...echo, handshakeTimeoutMs: 3000 });
      const worker = new WebSocket(s.url);
      await new Promise((resolve) => worker.once('open', resolve));
      const sockets = await Promise.all(
        Array.from({ length: 500 }, async () => {
          const client = await RawClient.connect(s.port);
          client.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and never the rest
          return client;
        }),
      );
      await until(() => s.server.stats().handshaking === 500, 15_000, 'all half-open');
      const started = Date.now();
      let echoes = 0;
      worker.on('message', () => {
        echoes++;
        worker.send('ping');
      });
      worker.send('ping');
      await until(() => sockets.every((c) => c.ended), 10_000, 'every half-open connection closed');
      const took = Date.now() - started;
      assert.ok(took < 7000, `closed within the 3 s timeout plus one 1 s tick and scheduling slack (took ${took} ms)`);
      assert.equal(s.server.stats().handshakeTimeouts, 500);
      assert.ok(echoes > 50, `the real client kept echoing meanwhile (${echoes})`);
      assert.equal(s.server.stats().pool.lentBuffers, 0, 'the partial heads went back to the pool');
      worker.close();
      await s.server.close();
    });

    test('the slow-message clock stops while reading is stopped for backpressure (issue #20 case 2)', async () => {
      const s = await start(transport, {
        ...echo,
        maxBufferedBytes: 1024 * 1024,
        slowMessageTimeoutMs: 2000, // two ticks of the wheel: one can be a moment
        minMessageRate: 1000,
      });
      const client = await RawClient.open(s.port);
      client.socket.pause(); // reads nothing: the echoes queue, and the server stops reading with a frame half in
      const count = 150_000;
      const frame = client.frame(2, Buffer.alloc(100, 7));
      client.write(Buffer.concat(Array.from({ length: count }, () => frame)));
      await until(() => s.server.stats().readPauses > 0, 20_000, 'reading stopped');
      await new Promise((resolve) => setTimeout(resolve, 4500)); // over two slow-message timeouts
      client.socket.resume();
      await client.frameCount(count, 30_000);
      assert.equal(s.server.stats().slowMessagesClosed, 0, 'not closed as a slow sender');
      assert.ok(!client.ended);
      client.destroy();
      await s.server.close();
    });

    test('the slow-message clock stops while the application paused the connection', async () => {
      let paused: Connection | undefined;
      const s = await start(transport, {
        slowMessageTimeoutMs: 2000, // two ticks of the wheel: one can be a moment
        minMessageRate: 1000,
        message(conn, data, isBinary) {
          conn.send(data, isBinary);
          if (paused !== undefined) return;
          paused = conn;
          conn.pause();
        },
      });
      const client = await RawClient.open(s.port);
      const second = client.frame(2, Buffer.alloc(100, 2));
      client.write(Buffer.concat([client.frame(2, Buffer.alloc(100, 1)), second.subarray(0, 50)])); // one read
      await client.frameCount(1);
      await new Promise((resolve) => setTimeout(resolve, 4500)); // the half frame waits, paused, past the grace
      paused!.resume();
      client.write(second.subarray(50));
      assert.equal((await client.frameCount(2))[1]!.payload[0], 2);
      assert.equal(s.server.stats().slowMessagesClosed, 0, 'not closed as a slow sender');
      client.destroy();
      await s.server.close();
    });

    test('a frame trickled below minMessageRate is closed with 1008; a fast one passes', async () => {
      const s = await start(transport, { ...echo, slowMessageTimeoutMs: 1000, minMessageRate: 1000 });
      const slow = await RawClient.open(s.port);
      const frame = slow.frame(2, Buffer.alloc(10000, 1));
      slow.write(frame.subarray(0, 100)); // then nothing: 100 B in > 1 s is below 1000 B/s
      assert.equal(await slow.closeCode(5000), 1008);
      assert.equal(s.server.stats().slowMessagesClosed, 1);
      const fast = await RawClient.open(s.port);
      const message = fast.frame(2, Buffer.alloc(30000, 2));
      for (let at = 0; at < message.length; at += 5000) {
        fast.write(message.subarray(at, at + 5000)); // 5 kB every 300 ms: above the rate
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      assert.equal((await fast.frameCount(1, 5000))[0]!.payload.length, 30000);
      assert.ok(!fast.ended);
      for (const c of [slow, fast]) c.destroy();
      await s.server.close();
    });
  });
}
