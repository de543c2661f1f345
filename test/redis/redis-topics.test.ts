import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { redisTopics } from '../../src/redis/index.js';
import { inspector, LIBRARIES, redisClient } from '../support/redis-clients.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';
import { start, until } from '../support/servers.js';
import { peers, rooms, subscribed, topicNode, type TopicNode } from '../support/topic-nodes.js';

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const library of LIBRARIES) {
  describe(`lightws/redis with ${library}`, () => {
    const open: TopicNode[] = [];
    const clients = peers();
    const node = async (options: Parameters<typeof topicNode>[2] = {}): Promise<TopicNode> => {
      const n = await topicNode(library, redis.url, { server: rooms, ...options });
      open.push(n);
      return n;
    };
    after(async () => {
      await clients.close();
      for (const n of open.splice(0)) await n.close();
    });

    test('server.publish reaches every subscriber on both servers exactly once; the echo of its own publish is dropped', async () => {
      const [a, b] = [await node(), await node()];
      const [a1, a2, b1, b2, other] = await Promise.all([
        clients.connect(`${a.url}/news`),
        clients.connect(`${a.url}/news`),
        clients.connect(`${b.url}/news`),
        clients.connect(`${b.url}/news`),
        clients.connect(`${b.url}/sport`),
      ]);
      await Promise.all([subscribed(a, 'news', 2), subscribed(b, 'news', 2), subscribed(b, 'sport', 1)]);
      await Promise.all([a.topics.ready(), b.topics.ready()]);
      assert.equal(a.server.publish('news', 'from a'), 2, 'the local subscribers');
      await Promise.all([b1.waitFor(1), b2.waitFor(1)]);
      // Redis delivers to a's subscriber connection in the order it ran the publishes: when b's
      // publish is back at a, the echo of a's own came before it and must have been dropped.
      b.server.publish('news', 'from b');
      await Promise.all([a1.waitFor(2), a2.waitFor(2), b1.waitFor(2)]);
      for (const p of [a1, a2, b1, b2]) assert.deepEqual(p.texts(), ['from a', 'from b']);
      assert.deepEqual(other.inbox, []);
      // `sent` counts what Redis acknowledged, on the publisher's connection: it may come a moment later.
      await until(
        () => a.server.stats().remote.sent === 1 && b.server.stats().remote.sent === 1,
        5000,
        'the acknowledgements',
      );
      const [sa, sb] = [a.server.stats().remote, b.server.stats().remote];
      assert.deepEqual([sa.sent, sa.received, sa.sentBytes, sa.receivedBytes], [1, 1, 6, 6]);
      assert.deepEqual([sb.sent, sb.received], [1, 1], "framed once for both of b's subscribers: one delivery");
      assert.deepEqual([sa.connected, sa.channels, sb.channels, sa.malformed, sa.dropped], [1, 1, 2, 0, 0]);
    });

    test('conn.publish skips the sender, here and on the other server alike', async () => {
      const [a, b] = [await node(), await node()];
      const [sender, a1, b1] = await Promise.all([
        clients.connect(`${a.url}/chat`),
        clients.connect(`${a.url}/chat`),
        clients.connect(`${b.url}/chat`),
      ]);
      await Promise.all([subscribed(a, 'chat', 2), subscribed(b, 'chat', 1)]);
      await Promise.all([a.topics.ready(), b.topics.ready()]);
      sender.conn.send('hello');
      await Promise.all([a1.waitFor(1), b1.waitFor(1)]);
      b1.conn.send('back');
      await Promise.all([sender.waitFor(1), a1.waitFor(2)]);
      assert.deepEqual(sender.texts(), ['back'], 'the sender did not get its own message');
      assert.deepEqual(a1.texts(), ['hello', 'back']);
      assert.deepEqual(b1.texts(), ['hello']);
    });

    test("a server is subscribed to a topic's channel only while it has a local subscriber", async () => {
      const look = inspector(redis.url);
      /** PUBSUB CHANNELS once the unsubscribes sent so far have been carried out. */
      const settled = async (expected: string[]): Promise<string[]> => {
        for (let i = 0; i < 100 && JSON.stringify(await look.channels('own:*')) !== JSON.stringify(expected); i++)
          await sleep(20);
        return look.channels('own:*');
      };
      try {
        const a = await topicNode(library, redis.url, {
          server: rooms,
          ownSubscriber: true,
          bridge: { prefix: 'own:' },
        });
        assert.deepEqual(await look.channels('own:*'), ['own:b'], 'only the broadcast channel at first');
        const [p1, p2, p3] = await Promise.all([
          clients.connect(`${a.url}/x`),
          clients.connect(`${a.url}/x`),
          clients.connect(`${a.url}/y`),
        ]);
        await Promise.all([subscribed(a, 'x', 2), subscribed(a, 'y', 1)]);
        await a.topics.ready();
        assert.deepEqual(await look.channels('own:*'), ['own:b', 'own:t:x', 'own:t:y']);
        assert.equal(await look.numsub('own:t:x'), 1, 'one Redis subscription for two local subscribers');
        assert.equal(a.server.stats().remote.channels, 2);
        p1.conn.close();
        await subscribed(a, 'x', 1);
        assert.equal(await look.numsub('own:t:x'), 1, 'still one local subscriber left');
        p2.conn.terminate();
        p3.conn.close();
        await until(() => a.server.stats().remote.channels === 0, 5000, 'no topic left');
        assert.deepEqual(await settled(['own:b']), ['own:b'], 'unsubscribed when the last one left');
        await a.close();
        assert.deepEqual(await settled([]), [], 'closing the bridge closed the subscriber it made');
      } finally {
        await look.close();
      }
    });

    test('payloads are binary-safe, text stays text and binary binary, and order is kept per publisher', async () => {
      const [a, b] = [await node(), await node()];
      const p = await clients.connect(`${b.url}/bytes`);
      await subscribed(b, 'bytes', 1);
      await Promise.all([b.topics.ready(), a.topics.ready()]);
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const notUtf8 = Buffer.from([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80]);
      const big = Buffer.alloc(70_000, 7);
      const unicode = 'ünïcødé ✓ 𝄞';
      a.server.publish('bytes', every);
      a.server.publish('bytes', notUtf8, true);
      a.server.publish('bytes', '');
      a.server.publish('bytes', unicode);
      a.server.publish('bytes', new Uint16Array([1, 2, 0xffff]));
      a.server.publish('bytes', big);
      a.server.publish('bytes', Buffer.from('text from bytes'), false);
      const numbered = Array.from({ length: 500 }, (_, i) => `#${i}`);
      for (const m of numbered) a.server.publish('bytes', m);
      await p.waitFor(507);
      assert.deepEqual([p.inbox[0]!.bytes, p.inbox[0]!.isBinary], [every, true]);
      assert.deepEqual([p.inbox[1]!.bytes, p.inbox[1]!.isBinary], [notUtf8, true]);
      assert.deepEqual([p.inbox[2]!.text, p.inbox[2]!.isBinary], ['', false]);
      assert.deepEqual([p.inbox[3]!.text, p.inbox[3]!.isBinary], [unicode, false]);
      assert.deepEqual(
        [p.inbox[4]!.bytes, p.inbox[4]!.isBinary],
        [Buffer.from(new Uint16Array([1, 2, 0xffff]).buffer), true],
      );
      assert.ok(p.inbox[5]!.bytes.equals(big) && p.inbox[5]!.isBinary, 'the 70,000-byte message');
      assert.deepEqual([p.inbox[6]!.text, p.inbox[6]!.isBinary], ['text from bytes', false]);
      assert.deepEqual(p.texts().slice(7), numbered, 'in the order published');
      const bytes = 256 + 7 + 0 + Buffer.byteLength(unicode) + 6 + 70_000 + 15 + numbered.join('').length;
      assert.deepEqual([b.server.stats().remote.received, b.server.stats().remote.receivedBytes], [507, bytes]);
    });

    test('a publish of the borrowed buffer from inside a message handler is safe', async () => {
      const [a, b] = [await node(), await node()];
      const [sender, far] = await Promise.all([clients.connect(`${a.url}/slab`), clients.connect(`${b.url}/slab`)]);
      await Promise.all([subscribed(a, 'slab', 1), subscribed(b, 'slab', 1)]);
      await Promise.all([a.topics.ready(), b.topics.ready()]);
      // Many messages at once: several arrive in one read, and each read overwrites the slab the views point into.
      const sent = Array.from({ length: 300 }, (_, i) => Buffer.alloc(100 + (i % 50), i & 0xff));
      for (const m of sent) sender.conn.send(m);
      await far.waitFor(300);
      assert.deepEqual(
        far.inbox.map((m) => m.bytes),
        sent,
      );
    });

    test('server.broadcast stays on its server; { remote: true } reaches every server', async () => {
      const [a, b] = [await node(), await node()];
      const [pa, pb] = await Promise.all([clients.connect(`${a.url}/`), clients.connect(`${b.url}/`)]);
      await until(() => a.server.connections === 1 && b.server.connections === 1, 5000, 'connections');
      assert.equal(a.server.broadcast('here only'), 1);
      assert.equal(a.server.broadcast('everywhere', false, { remote: true }), 1);
      await Promise.all([pa.waitFor(2), pb.waitFor(1)]);
      b.server.broadcast(Buffer.from([1, 2, 3]), true, { remote: true });
      await Promise.all([pa.waitFor(3), pb.waitFor(2)]);
      assert.deepEqual(pa.texts().slice(0, 2), ['here only', 'everywhere']);
      assert.deepEqual(pa.inbox[2]!.bytes, Buffer.from([1, 2, 3]));
      assert.deepEqual(pb.texts()[0], 'everywhere', 'the local broadcast did not travel');
      assert.deepEqual(pb.inbox[1]!.bytes, Buffer.from([1, 2, 3]), "and b's own remote broadcast came once, locally");
      assert.equal(pb.inbox.length, 2);
    });

    test('malformed messages on a channel are counted and dropped; the next good one is delivered', async () => {
      const look = inspector(redis.url);
      try {
        const [a, b] = [await node(), await node()];
        const p = await clients.connect(`${b.url}/m`);
        await subscribed(b, 'm', 1);
        await Promise.all([b.topics.ready(), a.topics.ready()]);
        const header = (version: number, flags: number) => Buffer.from([version, flags, 1, 2, 3, 4, 5, 6, 7, 8]);
        const bad = [
          Buffer.from([1, 0, 1]), // shorter than the header
          Buffer.concat([header(2, 0), Buffer.from('v2')]), // a version we do not know
          Buffer.concat([header(1, 0x80), Buffer.from('flags')]), // a flag we do not know
          Buffer.concat([header(1, 0), Buffer.from([0xc3, 0x28])]), // text that is not UTF-8
        ];
        for (const message of bad) await look.redis.publish('lightws:t:m', message);
        a.server.publish('m', 'good');
        await p.waitFor(1);
        assert.deepEqual(p.texts(), ['good']);
        assert.deepEqual([b.server.stats().remote.malformed, b.server.stats().remote.received], [4, 1]);
      } finally {
        await look.close();
      }
    });
  });
}

test('bad input to redisTopics and to publish gets a clear error', async () => {
  const { server } = await start('handle');
  const client = redisClient('ioredis', redis.url);
  const other = redisClient('node-redis', redis.url);
  try {
    assert.throws(() => redisTopics(null as never, { publisher: client.client }), /needs a lightws server/);
    assert.throws(() => redisTopics(server, undefined as never), /needs options/);
    assert.throws(
      () => redisTopics(server, { publisher: {} as never }),
      /publisher must be a client of 'redis'.*or of 'ioredis'/,
    );
    assert.throws(
      () => redisTopics(server, { publisher: client.client, subscriber: client.client }),
      /two connections/,
    );
    assert.throws(
      () => redisTopics(server, { publisher: client.client, prefix: 7 as never }),
      /prefix must be a string/,
    );
    assert.throws(
      () => redisTopics(server, { publisher: client.client, maxBufferedBytes: 0 }),
      /maxBufferedBytes must be a positive integer/,
    );
    assert.throws(
      () => redisTopics(server, { publisher: client.client, subscriber: other.client }),
      /use one library for both/,
    );
    const topics = redisTopics(server, { publisher: client.client });
    assert.throws(() => redisTopics(server, { publisher: client.client }), /already attached/);
    assert.throws(() => server.publish(42 as never, 'x'), /topic must be a string/);
    assert.throws(() => server.publish('nobody-here', 42 as never), /takes a string, Buffer/);
    await topics.ready();
    await topics.close();
    await topics.close(); // twice is once
    assert.equal(server.stats().remote.connected, 0, 'detached: zeros');
  } finally {
    await server.close();
    await client.quit();
    await other.quit();
  }
});
