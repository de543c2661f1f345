/**
 * Shutting down while Redis cannot answer (issue #20 follow-up): a Redis that
 * is stopped (SIGSTOP, as a hung host or a network partition looks: the TCP
 * connection stays open, nothing comes back) or gone for good. `server.close()`
 * and `topics.close()` resolve in bounded time, and `lightws echo --redis`
 * exits on SIGTERM with its usual report. Real redis-server, both libraries,
 * both transports.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { QUIT_TIMEOUT_MS } from '../../src/redis/clients.js';
import { LIBRARIES } from '../support/redis-clients.js';
import { startRedis, type RedisProcess } from '../support/redis-server.js';
import { TRANSPORTS, until } from '../support/servers.js';
import { peers, rooms, subscribed, topicNode } from '../support/topic-nodes.js';

const cli = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist', 'src', 'cli', 'main.js');

let redis: RedisProcess;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

/** Runs `work` with Redis stopped (SIGSTOP); lets it go on afterwards, whatever happened. */
async function whileStopped<T>(work: () => Promise<T>): Promise<T> {
  process.kill(redis.pid, 'SIGSTOP');
  try {
    return await work();
  } finally {
    process.kill(redis.pid, 'SIGCONT');
  }
}

/** How long `promise` took to settle, in ms, or `limitMs` + 1 if it had not by then. */
async function timed(promise: Promise<unknown>, limitMs: number): Promise<number> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), limitMs)));
  const outcome = await Promise.race([promise.then(() => 'done'), late]);
  clearTimeout(timer);
  return outcome === 'late' ? limitMs + 1 : performance.now() - started;
}

for (const transport of TRANSPORTS) {
  for (const library of LIBRARIES) {
    test(`${transport}, ${library}: with Redis stopped, server.close() and topics.close() (which quits the subscriber it made) resolve in bounded time`, async () => {
      const clients = peers();
      const node = await topicNode(library, redis.url, { transport, server: rooms, ownSubscriber: true });
      try {
        await clients.connect(`${node.url}/room`);
        await subscribed(node, 'room', 1);
        await node.topics.ready();
        await whileStopped(async () => {
          node.server.publish('room', 'into the void'); // a publish Redis never acknowledges
          const closeMs = await timed(node.server.close({ timeoutMs: 1000 }), 5000);
          assert.ok(closeMs < 2000, `server.close() took ${closeMs.toFixed(0)} ms (timeoutMs 1000)`);
          const topicsMs = await timed(node.topics.close(), 10_000);
          assert.ok(
            topicsMs < QUIT_TIMEOUT_MS + 1000,
            `topics.close() took ${topicsMs.toFixed(0)} ms (QUIT_TIMEOUT_MS ${QUIT_TIMEOUT_MS})`,
          );
        });
      } finally {
        await clients.close();
        await node.close();
      }
    });
  }
}

interface Cli {
  child: ChildProcess;
  url: string;
  out: string[];
  exit: Promise<number | null>;
}

async function startCli(transport: string): Promise<Cli> {
  const child = spawn(
    process.execPath,
    [
      cli,
      'echo',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--log-level',
      'silent',
      '--transport',
      transport,
      '--redis',
      redis.url,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const out: string[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => void out.push(line));
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /listening on (ws:\/\/[\d.]+:\d+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exit.then((code) => reject(new Error(`the CLI exited (${code}) before listening`)));
  });
  return { child, url, out, exit };
}

for (const transport of TRANSPORTS) {
  for (const outage of ['stopped', 'gone for good'] as const) {
    test(`${transport}: two lightws echo --redis servers whose Redis is ${outage} exit 0 on SIGTERM within a bound, with the usual report`, async () => {
      const clients = peers();
      const servers = [await startCli(transport), await startCli(transport)];
      let stopped = false;
      try {
        await Promise.all(servers.map((s) => clients.connect(`${s.url}/lobby`)));
        await until(() => servers.every((s) => s.out.length >= 1), 5000, 'the start-up lines');
        if (outage === 'stopped') {
          process.kill(redis.pid, 'SIGSTOP');
          stopped = true;
        } else await redis.kill();
        await new Promise((resolve) => setTimeout(resolve, 500));
        const started = performance.now();
        for (const s of servers) s.child.kill('SIGTERM');
        // closeTimeoutMs is not reached (the peers answer the Close at once); QUIT_TIMEOUT_MS is the bound added.
        const exits = await Promise.race([
          Promise.all(servers.map((s) => s.exit)),
          new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 8000).unref()),
        ]);
        const ms = performance.now() - started;
        assert.deepEqual(exits, [0, 0], `exited after ${ms.toFixed(0)} ms`);
        assert.ok(ms < QUIT_TIMEOUT_MS + 2000, `exited after ${ms.toFixed(0)} ms`);
        for (const s of servers)
          assert.deepEqual(s.out.slice(1), ['SIGTERM: closing 1 connections', 'closed 1, terminated 0']);
      } finally {
        if (stopped) process.kill(redis.pid, 'SIGCONT');
        else if (outage === 'gone for good') await redis.restart();
        for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
        await clients.close();
      }
    });
  }
}
