import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createServer } from '../../src/index.js';
import { redisTopics } from '../../src/redis/index.js';
import { until } from '../support/servers.js';
import { inspector, LIBRARIES, redisClient } from '../support/redis-clients.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';

const script = fileURLToPath(new URL('../support/relay-reload-server.js', import.meta.url));

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

interface Peer {
  ws: WebSocket;
  got: string[];
  closes: number[];
}

async function connect(port: number, count: number, subscribe: boolean): Promise<Peer[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      const peer: Peer = { ws, got: [], closes: [] };
      ws.on('message', (data) => void peer.got.push(String(data)));
      ws.on('close', (code) => void peer.closes.push(code));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      if (subscribe) {
        ws.send('sub');
        await until(() => peer.got.length > 0, 10000, 'subscribed');
      }
      return peer;
    }),
  );
}

/** Stream `name` as this subscriber got it: missed (from its first, or from 1 when `whole`), repeated, out of order. */
function faults(peers: readonly Peer[], name: string, total: number, whole: boolean) {
  const all = { missed: 0, repeated: 0, reordered: 0, subscribersWrong: 0 };
  for (const peer of peers) {
    const numbers = peer.got.filter((m) => m.startsWith(name)).map((m) => Number(m.slice(name.length)));
    const unique = new Set(numbers);
    let reordered = 0;
    for (let i = 1; i < numbers.length; i++) if (numbers[i]! < numbers[i - 1]!) reordered++;
    let missed = 0;
    for (let k = whole ? 1 : (numbers[0] ?? total + 1); k <= total; k++) if (!unique.has(k)) missed++;
    const repeated = numbers.length - unique.size;
    all.missed += missed;
    all.repeated += repeated;
    all.reordered += reordered;
    if (missed + repeated + reordered > 0) all.subscribersWrong++;
  }
  return all;
}

for (const library of LIBRARIES) {
  test(`primary.reload() with lightws/redis in each worker (${library}): while another server publishes a numbered stream through Redis and a client on a moving worker publishes one too, every subscriber on every worker (and those arriving during the reload) gets every number exactly once, in order`, async () => {
    const child = spawn(process.execPath, [script, '2', redis.url, library], { stdio: ['pipe', 'pipe', 'inherit'] });
    type Line = { port?: number; moved?: number; workers?: { error?: string }[] };
    const seen: Line[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => void seen.push(JSON.parse(line) as Line));
    const next = async (what: string) => {
      await until(() => seen.length > 0, 60000, what);
      return seen.shift()!;
    };
    const other = createServer({ logLevel: 'silent' });
    const otherClient = redisClient(library, redis.url);
    const topics = redisTopics(other, { publisher: otherClient.client });
    const look = inspector(redis.url);
    try {
      const { port } = await next('the primary');
      await topics.ready();
      const subscribers = await connect(port!, 200, true);
      // Without SO_REUSEPORT (Node < 22.12) the workers share one listening socket and a busy machine may give one
      // all of them: connect more until both hold subscribers (each worker one Redis subscription to the topic).
      const both = async (): Promise<boolean> => {
        for (let i = 0; i < 50; i++) {
          if ((await look.numsub('lightws:t:t')) === 2) return true;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return false;
      };
      for (let batch = 0; batch < 10 && !(await both()); batch++) subscribers.push(...(await connect(port!, 20, true)));
      assert.equal(await look.numsub('lightws:t:t'), 2, 'both workers subscribed');
      const [publisher] = await connect(port!, 1, false);
      let n = 0;
      let going = true;
      const streams = (async () => {
        while (going) {
          n++;
          other.publish('t', `r${n}`);
          publisher!.ws.send(`pub p${n}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.stdin.write('reload\n');
      const late: Peer[] = [];
      const arriving = (async () => {
        for (let k = 0; k < 10; k++) {
          late.push(...(await connect(port!, 2, true)));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const result = await next('the reload');
      await arriving;
      await new Promise((resolve) => setTimeout(resolve, 300));
      going = false;
      await streams;
      assert.ok(
        result.workers?.every((w) => w.error === undefined),
        JSON.stringify(result),
      );
      const everyone = [...subscribers, ...late];
      await until(
        () => everyone.every((p) => p.got.includes(`r${n}`) && p.got.includes(`p${n}`)),
        15000,
        'the last',
      ).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 200));
      const report = {
        remote: faults(subscribers, 'r', n, true),
        moving: faults(subscribers, 'p', n, true),
        lateRemote: faults(late, 'r', n, false),
        lateMoving: faults(late, 'p', n, false),
      };
      if (process.env.REPORT_FAULTS === '1') console.log(JSON.stringify({ library, n, moved: result.moved, report }));
      const clean = { missed: 0, repeated: 0, reordered: 0, subscribersWrong: 0 };
      assert.deepEqual(
        report,
        { remote: clean, moving: clean, lateRemote: clean, lateMoving: clean },
        JSON.stringify({ n, report }),
      );
      assert.ok(everyone.every((peer) => peer.closes.length === 0));
      for (let i = 0; i < 250 && (await look.channels('lightws:f')).length > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await look.channels('lightws:f'), [], 'no fence channel left');
      for (const peer of [...everyone, publisher!]) peer.ws.terminate();
    } finally {
      child.stdin.write('close\n');
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill();
      await topics.close();
      await otherClient.quit();
      await other.close({ timeoutMs: 500 });
      await look.close();
    }
  });
}
