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
before(async () => { redis = await startRedis(); });
after(async () => { await redis.stop(); });

async function startClusterProcess(workers: number, library: string) {
  const child = spawn(process.execPath, [script, String(workers), redis.url, library], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async <T>(): Promise<T> => JSON.parse((await lines.next()).value as string) as T;
  const { port } = await next<{ port: number }>();
  const ask = async <T>(command: string): Promise<T> => { child.stdin.write(`${command}\n`); return next<T>(); };
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
      for (let batch = 0; batch < 10 && (members.length < 12 || !stats.connectionsPerWorker.every((n) => n > 0)); batch++) {
        members.push(...await Promise.all([0, 1, 2, 3].map(() => clients.connect(`ws://127.0.0.1:${cluster.port}/room`))));
        for (let i = 0; i < 50 && (stats = await cluster.ask<ClusterStats>('stats')).connections < members.length; i++) await new Promise((r) => setTimeout(r, 10));
      }
      const inCluster = members.length;
      assert.deepEqual([stats.connections, stats.workers], [inCluster, 2]);
      assert.ok(stats.connectionsPerWorker.every((n) => n > 0), `both workers serve: ${stats.connectionsPerWorker.join(',')}`);
      members.push(await clients.connect(`${lone.url}/room`), await clients.connect(`${lone.url}/room`));
      await subscribed(lone, 'room', 2);
      for (let i = 0; i < 200 && (await look.numsub('lightws:t:room')) < 3; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(await look.numsub('lightws:t:room'), 3, 'one Redis subscription per worker, one for the lone server');
      await lone.topics.ready();
      members.forEach((m, i) => m.conn.send(`from ${i}`));
      const n = members.length;
      await Promise.all(members.map((m) => m.waitFor(n - 1)));
      await new Promise((r) => setTimeout(r, 100)); // time for a duplicate to show up, if there were one
      members.forEach((m, i) => {
        const expected = members.map((_, j) => `from ${j}`).filter((_, j) => j !== i).sort();
        assert.deepEqual([...m.texts()].sort(), expected, `member ${i}: everyone else's, once each`);
      });
      stats = await cluster.ask<ClusterStats>('stats');
      // `sent` counts acknowledgements, which come on the publishers' connections: maybe a moment later.
      for (let i = 0; i < 100 && stats.remote.sent < inCluster; i++) {
        await new Promise((r) => setTimeout(r, 20));
        stats = await cluster.ask<ClusterStats>('stats');
      }
      assert.equal(stats.remote.connected, 2, 'both workers connected to Redis');
      assert.equal(stats.remote.sent, inCluster, "each cluster member's message went to Redis once");
      // Each worker receives the other worker's members' messages and the lone server's 2.
      assert.equal(stats.remote.received, inCluster + 2 * 2);
      assert.equal(stats.remote.channels, 2);
      assert.equal(lone.server.stats().remote.received, inCluster);
    } finally {
      await clients.close();
      await look.close();
      await lone.close();
      await cluster.ask('close');
      await cluster.exit;
    }
  });
}
