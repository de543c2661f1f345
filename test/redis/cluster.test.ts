import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ClusterStats } from '../../src/index.js';
import { inspector, LIBRARIES } from '../support/redis-clients.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';
import { peers, rooms, subscribed, topicNode, type Peer } from '../support/topic-nodes.js';

const script = fileURLToPath(new URL('../support/redis-cluster-server.js', import.meta.url));

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

async function startClusterProcess(workers: number, library: string) {
  const child = spawn(process.execPath, [script, String(workers), redis.url, library], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => JSON.parse((await lines.next()).value as string) as T;
  const { port } = await next<{ port: number }>();
  const ask = async <T>(command: string): Promise<T> => {
    child.stdin.write(`${command}\n`);
    return next<T>();
  };
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { port, ask, exit };
}

for (const library of LIBRARIES) {
  test(`${library}: a 2-worker cluster and a lone server share a room; every message reaches every other member once; cluster stats sum the remote counters`, async () => {
    const look = inspector(redis.url);
    const clients = peers();
    const cluster = await startClusterProcess(2, library);
    const lone = await topicNode(library, redis.url, { server: rooms });
    try {
      // The kernel spreads accepts over the workers unevenly: connect until both hold some.
      const members: Peer[] = [];
      let stats = await cluster.ask<ClusterStats>('stats');
      for (
        let batch = 0;
        batch < 10 && (members.length < 12 || !stats.connectionsPerWorker.every((n) => n > 0));
        batch++
      ) {
        members.push(
          ...(await Promise.all([0, 1, 2, 3].map(() => clients.connect(`ws://127.0.0.1:${cluster.port}/room`)))),
        );
        for (let i = 0; i < 50 && (stats = await cluster.ask<ClusterStats>('stats')).connections < members.length; i++)
          await new Promise((r) => setTimeout(r, 10));
      }
      const inCluster = members.length;
      assert.deepEqual([stats.connections, stats.workers], [inCluster, 2]);
      assert.ok(
        stats.connectionsPerWorker.every((n) => n > 0),
        `both workers serve: ${stats.connectionsPerWorker.join(',')}`,
      );
      members.push(await clients.connect(`${lone.url}/room`), await clients.connect(`${lone.url}/room`));
      await subscribed(lone, 'room', 2);
      for (let i = 0; i < 200 && (await look.numsub('lightws:t:room')) < 3; i++)
        await new Promise((r) => setTimeout(r, 25));
      assert.equal(
        await look.numsub('lightws:t:room'),
        3,
        'one Redis subscription per worker, one for the lone server',
      );
      await lone.topics.ready();
      members.forEach((m, i) => m.conn.send(`from ${i}`));
      const n = members.length;
      await Promise.all(members.map((m) => m.waitFor(n - 1)));
      // `sent` counts Redis's acknowledgements, which come on the publishers' connections: maybe a moment later.
      const sentBy = async (fromCluster: number, fromLone: number): Promise<void> => {
        for (
          let i = 0;
          i < 250 &&
          ((stats = await cluster.ask<ClusterStats>('stats')).remote.sent < fromCluster ||
            lone.server.stats().remote.sent < fromLone);
          i++
        ) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.deepEqual(
          [stats.remote.sent, lone.server.stats().remote.sent],
          [fromCluster, fromLone],
          'every publish acknowledged by Redis',
        );
      };
      await sentBy(inCluster, 2);
      // A duplicate would come after the original, so "no duplicate" needs a barrier, not a pause.
      // Every publish above is acknowledged, so Redis has queued each copy of it for every
      // subscription. A marker published now, by a lone member and by a cluster member, reaches
      // each member through its own server's subscription (the lone marker the cluster's, the
      // cluster marker the lone server's) behind every such copy, and the server hands on what
      // its subscription delivers in order, on one connection per member; same-server copies
      // were delivered at once, before the markers were sent. So once a member has its markers,
      // any duplicate it was going to get has arrived.
      const markers = [
        [inCluster, 'marker from the lone server'],
        [0, 'marker from the cluster'],
      ] as const;
      for (const [from, text] of markers) members[from]!.conn.send(text);
      const expectedOf = (i: number): string[] =>
        [
          ...members.map((_, j) => `from ${j}`).filter((_, j) => j !== i),
          ...markers.filter(([from]) => from !== i).map(([, text]) => text),
        ].sort();
      await Promise.all(members.map((m, i) => m.waitFor(expectedOf(i).length, `member ${i}'s messages and markers`)));
      members.forEach((m, i) =>
        assert.deepEqual([...m.texts()].sort(), expectedOf(i), `member ${i}: everyone else's, once each`),
      );
      await sentBy(inCluster + 1, 2 + 1);
      assert.equal(stats.remote.connected, 2, 'both workers connected to Redis');
      // Each worker receives the other worker's members' messages, the lone server's 2 and its marker;
      // the cluster's marker reaches the worker that did not send it.
      assert.equal(stats.remote.received, inCluster + 2 * (2 + 1) + 1);
      assert.equal(stats.remote.channels, 2);
      assert.equal(lone.server.stats().remote.received, inCluster + 1);
    } finally {
      await clients.close();
      await look.close();
      await lone.close();
      await cluster.ask('close');
      await cluster.exit;
    }
  });
}
