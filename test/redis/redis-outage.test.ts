import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { inspector, LIBRARIES, type TestClient } from '../support/redis-clients.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';
import { TRANSPORTS, until } from '../support/servers.js';
import { tcpGate } from '../support/tcp-gate.js';
import { peers, rooms, subscribed, topicNode, type TopicNode } from '../support/topic-nodes.js';

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

const isReady = (c: TestClient): boolean => {
  const client = c.client as { isReady?: boolean; status?: string };
  return client.isReady === true || client.status === 'ready';
};

/**
 * Each library as it comes, and ioredis with autoResubscribe off (the bridge then restores the
 * subscriptions itself).
 */
const CASES = [
  ...LIBRARIES.map((library) => ({ library, autoResubscribe: true })),
  { library: 'ioredis' as const, autoResubscribe: false },
];

for (const { library, autoResubscribe } of CASES) {
  test(`${library}${autoResubscribe ? '' : ' (autoResubscribe off)'}: Redis killed mid-stream and restarted: local delivery goes on, remote publishes are buffered to the bound, the oldest dropped and counted past it, subscriptions come back, the buffered ones go out in order`, async () => {
    const clients = peers();
    const nodes: TopicNode[] = [];
    // a's publisher reaches Redis through a gate, so that it comes back only once b listens again:
    // pub/sub keeps nothing, what a flushed before b resubscribed would be lost to b.
    const gate = await tcpGate(redis.port);
    const look = inspector(redis.url);
    try {
      // 10 envelopes of 10 + 100 bytes fit the bound.
      const a = await topicNode(library, redis.url, {
        server: { ...rooms, metricsPath: '/metrics' },
        publisherUrl: `redis://127.0.0.1:${gate.port}`,
        autoResubscribe,
        bridge: { maxBufferedBytes: 10 * 110 },
      });
      const b = await topicNode(library, redis.url, { server: rooms, autoResubscribe });
      nodes.push(a, b);
      const [a1, b1] = await Promise.all([clients.connect(`${a.url}/live`), clients.connect(`${b.url}/live`)]);
      await Promise.all([subscribed(a, 'live', 1), subscribed(b, 'live', 1)]);
      await Promise.all([a.topics.ready(), b.topics.ready()]);
      a.server.publish('live', 'before');
      await b1.waitFor(1);

      gate.hold();
      await redis.kill();
      await until(() => !isReady(a.publisher) && !isReady(b.subscriber!), 5000, 'the clients to notice');
      await until(
        () => a.server.stats().remote.connected === 0 && b.server.stats().remote.connected === 0,
        5000,
        'the bridges to notice',
      );
      const during = Array.from({ length: 15 }, (_, i) => `${String(i).padStart(2, '0')}${'.'.repeat(98)}`);
      for (const m of during) assert.equal(a.server.publish('live', m), 1, 'local delivery goes on');
      await a1.waitFor(1 + 15);
      assert.deepEqual(a1.texts().slice(1), during);
      const down = a.server.stats().remote;
      assert.deepEqual(
        [down.buffered, down.bufferedBytes, down.dropped, down.droppedBytes],
        [10, 1100, 5, 500],
        'ten kept, the five oldest dropped',
      );
      await until(() => a.server.stats().remote.errors > 0, 5000, 'the failed reconnects counted (and handled)');

      await redis.restart();
      // Both subscribers back on the channel (a's and b's, restored by the library or the bridge), then a's publisher.
      for (let i = 0; i < 500 && (await look.numsub('lightws:t:live').catch(() => 0)) < 2; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(await look.numsub('lightws:t:live'), 2, 'the subscriptions are restored');
      assert.equal(a.server.stats().remote.buffered, 10, 'still kept while the publisher is away');
      gate.release();
      await until(() => b1.inbox.length >= 1 + 10, 15_000, "the buffered publishes at b's subscriber");
      assert.deepEqual(b1.texts(), ['before', ...during.slice(5)], 'the ten newest, in order, once');
      await until(() => a.server.stats().remote.sent === 1 + 10, 5000, 'the acknowledgements of the ten');
      const up = a.server.stats().remote;
      assert.deepEqual([up.buffered, up.bufferedBytes, up.connected, up.dropped], [0, 0, 1, 5]);
      assert.equal(sample(await scrape(a), 'lightws_remote_dropped_messages_total'), 5, 'the drops in /metrics');
      // a's own subscriptions were restored too: b's publish reaches it.
      await until(() => b.server.stats().remote.connected === 1, 5000, 'b reconnected');
      b1.conn.send('after');
      await a1.waitFor(1 + 15 + 1);
      assert.equal(a1.texts().at(-1), 'after');
      assert.equal(b1.inbox.length, 11, 'the sender did not get its own');
    } finally {
      // A test that failed in its outage must not leave the next ones without a Redis.
      if (!redis.running) await redis.restart();
      await clients.close();
      for (const n of nodes) await n.close();
      await look.close();
      await gate.close();
    }
  });
}

/** GET `path` from a node's plain HTTP side: the text of its /metrics. */
async function scrape(node: TopicNode): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${node.port}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

/** The value of an unlabelled sample in a /metrics text. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

for (const { library, autoResubscribe } of CASES) {
  for (const transport of TRANSPORTS) {
    test(`${transport}, ${library}${autoResubscribe ? '' : ' (autoResubscribe off)'}: Redis stopped and restarted on its port between two servers: what one published during the outage reaches the other once it has subscribed again, in order, once; nothing dropped, as /metrics says`, async () => {
      const clients = peers();
      const nodes: TopicNode[] = [];
      try {
        const server = { ...rooms, metricsPath: '/metrics' };
        // a's publisher comes back at once, b's subscriber only after 800 ms: as with the libraries' own
        // back-off, the publishes kept by a would go out before b listens again, and pub/sub keeps nothing.
        const a = await topicNode(library, redis.url, { transport, server, autoResubscribe, publisherRetryMs: 20 });
        const b = await topicNode(library, redis.url, { transport, server, autoResubscribe, subscriberRetryMs: 800 });
        nodes.push(a, b);
        const [a1, b1] = await Promise.all([clients.connect(`${a.url}/room`), clients.connect(`${b.url}/room`)]);
        await Promise.all([subscribed(a, 'room', 1), subscribed(b, 'room', 1)]);
        await Promise.all([a.topics.ready(), b.topics.ready()]);
        a.server.publish('room', 'before');
        await b1.waitFor(1);

        await redis.kill();
        await until(
          () => a.server.stats().remote.connected === 0 && b.server.stats().remote.connected === 0,
          5000,
          'the bridges to notice',
        );
        const during = Array.from({ length: 80 }, (_, i) => `during ${i}`);
        for (const m of during) {
          assert.equal(a.server.publish('room', m), 1, 'local delivery goes on');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await a1.waitFor(1 + 80);
        // (The last one is kept once the client library has refused it, which may come a turn later, or
        // later still on a loaded machine: CI runs three suites side by side. The count is in the message.)
        await until(() => a.server.stats().remote.buffered === 80, 10_000, 'all kept: they fit maxBufferedBytes').catch(
          (error: Error) => {
            throw new Error(`${error.message} (buffered: ${a.server.stats().remote.buffered} of 80)`);
          },
        );

        await redis.restart();
        await until(() => b1.inbox.length >= 1 + 80, 15_000, "the kept publishes at b's subscriber");
        await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more comes
        assert.deepEqual(b1.texts(), ['before', ...during], 'every one, in order, once');
        await until(() => a.server.stats().remote.sent === 1 + 80, 5000, 'the acknowledgements');
        const metrics = await scrape(a);
        assert.equal(sample(metrics, 'lightws_remote_dropped_messages_total'), 0);
        assert.equal(sample(metrics, 'lightws_remote_sent_messages_total'), 81);
        assert.equal(sample(metrics, 'lightws_remote_buffered_messages'), 0);
      } finally {
        // A test that failed in its outage must not leave the next ones without a Redis.
        if (!redis.running) await redis.restart();
        await clients.close();
        for (const n of nodes) await n.close();
      }
    });
  }
}

for (const library of LIBRARIES) {
  test(`${library}: a server that never subscribes again does not hold the kept publishes past resubscribeWaitMs`, async () => {
    const clients = peers();
    const nodes: TopicNode[] = [];
    try {
      const a = await topicNode(library, redis.url, {
        server: rooms,
        publisherRetryMs: 20,
        bridge: { resubscribeWaitMs: 1000 },
      });
      const b = await topicNode(library, redis.url, { server: rooms });
      nodes.push(a);
      const [, b1] = await Promise.all([clients.connect(`${a.url}/room`), clients.connect(`${b.url}/room`)]);
      await Promise.all([subscribed(a, 'room', 1), subscribed(b, 'room', 1)]);
      await Promise.all([a.topics.ready(), b.topics.ready()]);
      a.server.publish('room', 'before');
      await b1.waitFor(1); // the channel's last publish reached two subscribers: a's and b's

      await redis.kill();
      await until(() => a.server.stats().remote.connected === 0, 5000, 'a to notice');
      await b.close(); // gone for good
      for (let i = 0; i < 5; i++) a.server.publish('room', `during ${i}`);
      await redis.restart();
      const back = performance.now();
      await until(() => a.server.stats().remote.sent === 1 + 5, 8000, 'the kept publishes sent anyway');
      const waited = performance.now() - back;
      assert.ok(waited >= 800, `sent after ${waited.toFixed(0)} ms: it waited for b first`);
      assert.deepEqual([a.server.stats().remote.buffered, a.server.stats().remote.dropped], [0, 0]);
      a.server.publish('room', 'after'); // and nothing waits any more
      await until(() => a.server.stats().remote.sent === 1 + 5 + 1, 2000, 'a live publish');
    } finally {
      // A test that failed in its outage must not leave the next ones without a Redis.
      if (!redis.running) await redis.restart();
      await clients.close();
      for (const n of nodes) await n.close();
    }
  });
}
