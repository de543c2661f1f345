import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createServer } from '../../src/index.js';
import { redisTopics } from '../../src/redis/index.js';
import { TRANSPORTS, until } from '../support/servers.js';
import { inspector, LIBRARIES, redisClient } from '../support/redis-clients.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';

const script = fileURLToPath(new URL('../support/handover-server.js', import.meta.url));

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

interface Line {
  port?: number;
  pid?: number;
  successor?: boolean;
  moved?: number;
  refused?: number;
  kept?: number;
  error?: string;
  fallbacks?: number;
}

/** The fixture server (test/support/handover-server.ts) with its topics through our Redis. */
function startServer(transport: string, library: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [script, transport, '{}'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, REDIS_URL: redis.url, REDIS_LIBRARY: library, HANDOVER_TIMEOUT_MS: '30000', ...env },
  });
  const seen: Line[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => void seen.push(JSON.parse(line) as Line));
  const wait = async (match: (line: Line) => boolean, what: string): Promise<Line> => {
    await until(() => seen.some(match), 60000, what); // a loaded machine: the successor loads two Redis libraries
    return seen.splice(seen.findIndex(match), 1)[0]!;
  };
  return { child, wait, send: (line: string) => void child.stdin.write(`${line}\n`) };
}

function kill(...pids: (number | undefined)[]): void {
  for (const pid of pids) {
    try {
      if (pid !== undefined) process.kill(pid);
    } catch {
      // already gone
    }
  }
}

interface Peer {
  ws: WebSocket;
  got: string[];
  closes: number[];
}

async function connect(port: number, count: number, subscribe?: string): Promise<Peer[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      const peer: Peer = { ws, got: [], closes: [] };
      ws.on('message', (data) => void peer.got.push(String(data)));
      ws.on('close', (code) => void peer.closes.push(code));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      if (subscribe !== undefined) {
        ws.send(`sub:${subscribe}`);
        await until(() => peer.got.length > 0, 10000, 'subscribed');
      }
      return peer;
    }),
  );
}

/** A numbered stream `${name}1`, `${name}2`, … one every `everyMs` through `send`, until stop() (→ how many). */
function stream(name: string, everyMs: number, send: (text: string) => void): { stop(): Promise<number> } {
  let n = 0;
  let going = true;
  const done = (async () => {
    while (going) {
      send(`${name}${++n}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    stop: async () => {
      going = false;
      await done;
      return n;
    },
  };
}

/** One subscriber's view of stream `name` (1..total): how many it missed, had twice, or had out of order. */
function faults(got: readonly string[], name: string, total: number, whole: boolean) {
  const numbers = got
    .filter((m) => m.startsWith(name) && /^\d+$/.test(m.slice(name.length)))
    .map((m) => Number(m.slice(name.length)));
  const first = whole ? 1 : (numbers[0] ?? total + 1);
  const unique = new Set(numbers);
  let reordered = 0;
  for (let i = 1; i < numbers.length; i++) if (numbers[i]! < numbers[i - 1]!) reordered++;
  let missed = 0;
  for (let k = first; k <= total; k++) if (!unique.has(k)) missed++;
  return { missed, repeated: numbers.length - unique.size, reordered };
}

function sum(peers: readonly Peer[], name: string, total: number, whole: boolean) {
  const all = { missed: 0, repeated: 0, reordered: 0, subscribersWrong: 0 };
  for (const peer of peers) {
    const f = faults(peer.got, name, total, whole);
    all.missed += f.missed;
    all.repeated += f.repeated;
    all.reordered += f.reordered;
    if (f.missed + f.repeated + f.reordered > 0) all.subscribersWrong++;
  }
  return all;
}

/** Polls an asynchronous check (Redis's answer) until it holds, or fails after 5 s. */
async function settle(check: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 5000; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const SUBSCRIBERS = 200;

for (const [i, transport] of TRANSPORTS.entries()) {
  const library = LIBRARIES[i % LIBRARIES.length]!;
  test(`server.handover() with lightws/redis on both sides (${transport}, ${library}): while another server publishes a numbered stream through Redis and a moving client publishes one too, each of ${SUBSCRIBERS} subscribers (moving, and those that subscribe during the handover) gets every number exactly once, in order`, async () => {
    const server = startServer(transport, library);
    const first = await server.wait((l) => l.successor === false, 'the server listening');
    let successorPid: number | undefined;
    const other = createServer({ logLevel: 'silent' });
    const otherClient = redisClient(library, redis.url);
    const topics = redisTopics(other, { publisher: otherClient.client });
    const look = inspector(redis.url);
    try {
      await topics.ready();
      const subscribers = await connect(first.port!, SUBSCRIBERS, 'news');
      const [publisher] = await connect(first.port!, 1);
      await settle(async () => (await look.numsub('lightws:t:news')) === 1, 'the server subscribed');
      const remote = stream('r', 5, (text) => other.publish('news', text));
      const local = stream('p', 5, (text) => publisher!.ws.send(`pub:news:${text}`));
      await new Promise((resolve) => setTimeout(resolve, 300));
      server.send('handover');
      // Subscribers that arrive during the handover, on either process.
      const late: Peer[] = [];
      const arriving = (async () => {
        for (let k = 0; k < 10; k++) {
          late.push(...(await connect(first.port!, 2, 'news')));
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
      })();
      const result = await server.wait((l) => l.moved !== undefined || l.error !== undefined, 'the handover result');
      successorPid = (await server.wait((l) => l.successor === true, 'the successor')).pid;
      await arriving;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [rTotal, pTotal] = [await remote.stop(), await local.stop()];
      assert.equal(result.error, undefined);
      // Those that arrived during the handover may have reached the new process directly.
      assert.ok(result.moved! >= SUBSCRIBERS + 1, `moved ${result.moved}`);
      assert.deepEqual([result.refused, result.kept], [0, 0]);
      // Everything published has arrived once the last numbers have.
      await until(
        () => [...subscribers, ...late].every((p) => p.got.includes(`r${rTotal}`) && p.got.includes(`p${pTotal}`)),
        15000,
        'the last numbers',
      ).catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 200));
      const report = {
        remote: sum(subscribers, 'r', rTotal, true),
        moving: sum(subscribers, 'p', pTotal, true),
        lateRemote: sum(late, 'r', rTotal, false),
        lateMoving: sum(late, 'p', pTotal, false),
      };
      if (process.env.REPORT_FAULTS === '1')
        console.log(JSON.stringify({ transport, library, rTotal, pTotal, late: late.length, report }));
      const clean = { missed: 0, repeated: 0, reordered: 0, subscribersWrong: 0 };
      assert.deepEqual(
        report,
        { remote: clean, moving: clean, lateRemote: clean, lateMoving: clean },
        JSON.stringify({ rTotal, pTotal, report }),
      );
      for (const peer of [...subscribers, ...late]) assert.deepEqual(peer.closes, []);
      const stats = (await (await fetch(`http://127.0.0.1:${first.port}/`)).json()) as Line & { pid: number };
      assert.equal(stats.pid, successorPid);
      assert.equal(stats.fallbacks, 0, 'the fence came');
      // The handover's own subscriptions are gone: the topic, once per server, and no fence channel.
      await settle(async () => (await look.channels('lightws:f')).length === 0, 'no fence channel');
      for (const peer of [...subscribers, ...late, publisher!]) peer.ws.terminate();
    } finally {
      kill(server.child.pid, successorPid);
      await topics.close();
      await otherClient.quit();
      await other.close({ timeoutMs: 500 });
      await look.close();
    }
  });
}

test('server.handover() with lightws/redis: the new process dies halfway; the old one keeps its Redis subscriptions (none of the handover is left) and its subscribers get every publish after, once, in order', async () => {
  const server = startServer('handle', 'ioredis', { CRASH_AFTER: '20' });
  const first = await server.wait((l) => l.successor === false, 'the server listening');
  const other = createServer({ logLevel: 'silent' });
  const otherClient = redisClient('ioredis', redis.url);
  const topics = redisTopics(other, { publisher: otherClient.client });
  const look = inspector(redis.url);
  try {
    await topics.ready();
    const subscribers = await connect(first.port!, 60, 'news');
    await settle(async () => (await look.numsub('lightws:t:news')) === 1, 'the server subscribed');
    const during = stream('d', 5, (text) => other.publish('news', text));
    server.send('handover');
    const result = await server.wait((l) => l.moved !== undefined || l.error !== undefined, 'the handover result');
    await during.stop();
    assert.match(String(result.error), /exited|closed the channel/);
    const kept = subscribers.filter((peer) => peer.closes.length === 0);
    await until(
      () => subscribers.filter((peer) => peer.closes.length > 0).length === result.moved,
      5000,
      'the lost ones',
    );
    assert.equal(kept.length, result.kept);
    await settle(async () => (await look.numsub('lightws:t:news')) === 1, 'only the old process subscribed');
    await settle(async () => (await look.channels('lightws:f')).length === 0, 'no fence channel');
    const after = stream('s', 2, (text) => other.publish('news', text));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const total = await after.stop();
    await until(() => kept.every((peer) => peer.got.includes(`s${total}`)), 10000, 'the last one');
    assert.deepEqual(sum(kept, 's', total, true), { missed: 0, repeated: 0, reordered: 0, subscribersWrong: 0 });
    for (const peer of subscribers) peer.ws.terminate();
  } finally {
    kill(server.child.pid);
    await topics.close();
    await otherClient.quit();
    await other.close({ timeoutMs: 500 });
    await look.close();
  }
});
