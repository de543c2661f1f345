import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { workerExecArgv } from '../../src/cluster/cluster.js';
import { createClient, startCluster, type Connection } from '../../src/index.js';
import { reusePortSupported } from '../../src/transport/server-handle.js';
import { requireRawBindings } from '../../src/transport/raw-bindings.js';
import { startClusterProcess } from '../support/cluster-process.js';
import { until } from '../support/servers.js';

/** Node passes SO_REUSEPORT through tcp_wrap from 22.12 and 23.1 on. */
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const nodeHasReusePort = major > 22 || (major === 22 && minor >= 12);

interface Stats {
  connections: number;
  connectionsPerWorker: number[];
  workers: number;
  restarts: number;
  pool: { lentBuffers: number };
  exits: unknown[];
}

for (const reusePort of [true, false]) {
  const mode = reusePort ? 'a socket per worker (SO_REUSEPORT)' : "the primary's socket passed to each worker";
  test(
    `cluster smoke, ${mode}: 3 workers × 5,000 connections established, held, echoing, closed cleanly (1001)`,
    { skip: reusePort && !nodeHasReusePort && `Node ${process.version} has no SO_REUSEPORT` },
    async () => {
      await smoke(reusePort);
    },
  );
}

async function smoke(reusePort: boolean): Promise<void> {
  const cluster = await startClusterProcess(3, { reusePort });
  assert.equal(cluster.reusePort, reusePort);
  const closes: number[] = [];
  const client = createClient({ transport: 'handle', logLevel: 'silent', close: (_c, code) => void closes.push(code) });
  const total = 15000;
  const conns: Connection[] = [];
  for (let i = 0; i < total; i += 500) {
    conns.push(
      ...(await Promise.all(
        Array.from({ length: 500 }, (_, k) => {
          const n = i + k;
          // Explicit source address and port: no ephemeral-port search, no TIME_WAIT clash with other tests.
          return client.connect(`ws://127.0.0.1:${cluster.port}`, {
            localAddress: `127.3.${1 + (n >> 8)}.${n & 255}`,
            localPort: 10000 + (process.pid % 20000),
          });
        }),
      )),
    );
  }
  assert.equal(conns.length, total);
  let stats = await cluster.ask<Stats>('stats');
  for (let i = 0; i < 50 && stats.connections < total; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    stats = await cluster.ask<Stats>('stats');
  }
  assert.equal(stats.connections, total, 'every connection established and held');
  assert.equal(stats.workers, 3);
  assert.ok(
    stats.connectionsPerWorker.every((n) => n > 0),
    `all workers serve: ${stats.connectionsPerWorker.join(',')}`,
  );
  // A sample echoes through whichever worker holds it.
  const inbox: string[] = [];
  const sampler = createClient({ logLevel: 'silent', message: (_c, d) => void inbox.push(d.toString()) });
  const sample = await Promise.all([0, 1, 2, 3, 4, 5].map(() => sampler.connect(`ws://127.0.0.1:${cluster.port}`)));
  sample.forEach((c, i) => c.send(`sample ${i}`));
  await until(() => inbox.length === 6, 5000, 'sample echoes');
  await sampler.close();
  const result = await cluster.ask<{ closed: number; terminated: number }>('close');
  assert.equal(result.terminated, 0, 'nobody had to be terminated');
  assert.ok(result.closed >= total, `closed ${result.closed}`);
  await until(() => closes.length === total, 20000, 'every client saw the close');
  assert.ok(
    closes.every((code) => code === 1001),
    'each with 1001 going away',
  );
  await client.close();
}

test(`reusePort defaults to what Node supports (${process.version}: ${nodeHasReusePort})`, async () => {
  assert.equal(reusePortSupported(requireRawBindings()), nodeHasReusePort);
  if (nodeHasReusePort) {
    const cluster = await startClusterProcess(1);
    assert.equal(cluster.reusePort, true);
    await cluster.ask('close');
  } else {
    // Before anything is forked: a Node without SO_REUSEPORT says so.
    await assert.rejects(
      startCluster({ workers: 1, port: 0, host: '127.0.0.1', reusePort: true }, () => {
        throw new Error('not a worker');
      }),
      /SO_REUSEPORT needs Node 22\.12/,
    );
  }
});

test(
  'with SO_REUSEPORT the kernel spreads connections evenly over the workers',
  { skip: !nodeHasReusePort && `Node ${process.version} has no SO_REUSEPORT` },
  async () => {
    const cluster = await startClusterProcess(4);
    assert.equal(cluster.reusePort, true);
    const client = createClient({ transport: 'handle', logLevel: 'silent' });
    const total = 2000;
    for (let i = 0; i < total; i += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, k) => {
          const n = i + k;
          return client.connect(`ws://127.0.0.1:${cluster.port}`, {
            localAddress: `127.4.${1 + (n >> 8)}.${n & 255}`,
            localPort: 10000 + (process.pid % 20000),
          });
        }),
      );
    }
    let stats = await cluster.ask<Stats>('stats');
    for (let i = 0; i < 50 && stats.connections < total; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stats = await cluster.ask<Stats>('stats');
    }
    assert.equal(stats.connections, total);
    // A hash of each connection's addresses picks the socket: binomial, 500 ± 19 per worker. A
    // shared socket's accept races give no such bound (100k over 7 workers: 6.7k..19.9k).
    for (const n of stats.connectionsPerWorker)
      assert.ok(n >= 350 && n <= 650, `spread ${stats.connectionsPerWorker.join(', ')}`);
    await client.close({ timeoutMs: 5000 });
    await cluster.ask('close');
  },
);

test("execArgv sets the workers' Node flags as given", async () => {
  const cluster = await startClusterProcess(2, { execArgv: ['--stack-size=900'] });
  for (const pid of cluster.pids) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    assert.ok(
      argv.includes('--stack-size=900') && !argv.some((a) => a.startsWith('--max-semi-space-size')),
      `worker ${pid}: ${argv.join(' ')}`,
    );
  }
  await cluster.ask('close');
});

test("by default the workers get the primary's flags and a 1 MiB semi-space, unless the primary sizes it", async () => {
  const cluster = await startClusterProcess(1);
  const argv = readFileSync(`/proc/${cluster.pids[0]!}/cmdline`, 'latin1').split('\0');
  assert.ok(argv.includes('--max-semi-space-size=1'), argv.join(' '));
  await cluster.ask('close');
  assert.deepEqual(workerExecArgv(undefined, ['--trace-gc']), ['--trace-gc', '--max-semi-space-size=1']);
  assert.deepEqual(workerExecArgv(undefined, ['--max-semi-space-size=8']), ['--max-semi-space-size=8']);
  assert.deepEqual(workerExecArgv(undefined, ['--max_semi_space_size', '4']), ['--max_semi_space_size', '4']);
  assert.deepEqual(workerExecArgv([], ['--trace-gc']), []);
});

test('a crashed worker is reported and restarted; the port keeps serving', async () => {
  const cluster = await startClusterProcess(2);
  process.kill(cluster.pids[0]!, 'SIGKILL');
  let stats = await cluster.ask<Stats>('stats');
  for (let i = 0; i < 50 && (stats.workers < 2 || stats.restarts < 1); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    stats = await cluster.ask<Stats>('stats');
  }
  assert.equal(stats.restarts, 1);
  assert.equal(stats.workers, 2, 'back to two workers');
  assert.deepEqual(stats.exits, [{ worker: 0, code: null, signal: 'SIGKILL', restarting: true }]);
  const pids = (await cluster.ask<{ pids: number[] }>('pids')).pids;
  assert.notEqual(pids[0], cluster.pids[0], 'a new process');
  const inbox: string[] = [];
  const client = createClient({ logLevel: 'silent', message: (_c, d) => void inbox.push(d.toString()) });
  const conns = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => client.connect(`ws://127.0.0.1:${cluster.port}`)));
  conns.forEach((c) => c.send('after the crash'));
  await until(() => inbox.length === 8, 5000, 'echoes');
  await client.close();
  await cluster.ask('close');
});
