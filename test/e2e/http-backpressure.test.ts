import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until } from '../support/servers.js';

/**
 * Plain HTTP answers count against maxBufferedBytes (issue #20, case 1): a
 * peer that pipelines requests and never reads the answers stops being read
 * once its answers queue up, holds about maxBufferedBytes at most, and is
 * closed when it stays so; a WebSocket beside it keeps echoing.
 */

const MAX_BUFFERED = 256 * 1024;
/** What one connection may hold: its queue (in-flight write and outbox, grown by doubling) and the requests held unread. */
const BOUND = 2 * MAX_BUFFERED;

for (const transport of TRANSPORTS) {
  describe(`HTTP answers a peer does not read, over ${transport}`, () => {
    // The health answer is small: more of them, so that they are more than the kernel's socket buffers take.
    for (const [path, megabytes] of [
      ['/', 1],
      ['/healthz', 4],
      ['/metrics', 1],
    ] as const) {
      test(`${megabytes} MB of pipelined GET ${path}, never read: bounded pool, the peer closed, a bystander echoes`, async () => {
        const s = await start(transport, {
          ...echo,
          maxBufferedBytes: MAX_BUFFERED,
          handshakeTimeoutMs: 1500,
          healthPath: '/healthz',
          metricsPath: '/metrics',
          request: () => ({ body: 'x'.repeat(4096) }),
        });
        const bystander = await RawClient.open(s.port);
        const flood = net.connect(s.port, '127.0.0.1');
        await new Promise((resolve) => flood.once('connect', resolve));
        flood.pause(); // never reads a byte of the answers
        flood.on('error', () => {});
        const request = `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;
        flood.write(request.repeat(Math.ceil((megabytes * 1_000_000) / request.length)));
        let echoed = 0;
        while (s.server.stats().httpTimeouts + s.server.stats().slowConsumersClosed === 0) {
          bystander.send(1, `ping ${echoed}`);
          const frames = await bystander.frameCount(echoed + 1, 3000);
          assert.equal(frames[echoed]!.payload.toString(), `ping ${echoed}`);
          echoed++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          assert.ok(echoed < 500, 'the flooding connection was never closed');
        }
        const stats = s.server.stats();
        assert.ok(
          stats.pool.peakLentBytes <= BOUND,
          `pool peak ${stats.pool.peakLentBytes} B, at most ${BOUND} B with maxBufferedBytes ${MAX_BUFFERED}`,
        );
        assert.ok(echoed > 10, `the bystander echoed all along (${echoed})`);
        await until(() => s.server.stats().pool.lentBuffers === 0, 3000, 'every buffer back');
        flood.destroy();
        bystander.destroy();
        await s.server.close({ timeoutMs: 1000 });
      });
    }

    test('a peer that reads slowly gets every pipelined answer, in order', async () => {
      const s = await start(transport, {
        maxBufferedBytes: MAX_BUFFERED,
        request: (request) => ({ body: `${request.url} `.padEnd(8192, '.') }),
      });
      const client = net.connect(s.port, '127.0.0.1');
      await new Promise((resolve) => client.once('connect', resolve));
      client.pause();
      const count = 2000; // 16 MB of answers: far past the bound, read only after a while
      let requests = '';
      for (let i = 0; i < count; i++) requests += `GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
      client.write(requests);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(s.server.stats().pool.peakLentBytes <= BOUND, `pool peak ${s.server.stats().pool.peakLentBytes} B`);
      let received = '';
      client.setEncoding('latin1');
      client.on('data', (chunk: string) => (received += chunk));
      client.resume();
      const bodies = (): RegExpMatchArray[] => [...received.matchAll(/\r\n\r\n(\/\d+) /g)];
      await until(() => bodies().length === count, 10_000, `${count} answers`);
      assert.deepEqual(
        bodies().map((m) => m[1]),
        Array.from({ length: count }, (_, i) => `/${i}`),
      );
      assert.ok(s.server.stats().pool.peakLentBytes <= BOUND, `pool peak ${s.server.stats().pool.peakLentBytes} B`);
      client.destroy();
      await s.server.close({ timeoutMs: 1000 });
    });
  });
}
