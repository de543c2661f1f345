/**
 * The primary while a worker is hung (SIGSTOP), beyond /metrics
 * (cluster-faults.test.ts): `stats()` answers within scrapeTimeoutMs and
 * names the missing worker, and the topic relay holds a bounded backlog for
 * it, dropping (and counting) the rest. Real processes, real signals, both
 * transports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { parseExposition } from '../support/prometheus-parser.js';
import { startClusterProcess } from '../support/cluster-process.js';
import { TRANSPORTS } from '../support/servers.js';
import { peers, type Peer } from '../support/topic-nodes.js';

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => void (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of `name` for `worker` in an exposition. */
function sample(text: string, name: string, worker: string): number {
  const found = parseExposition(text)
    .get(name)
    ?.samples.find((s) => s.labels.worker === worker);
  assert.ok(found !== undefined, `${name}{worker="${worker}"} is rendered`);
  return found.value;
}

/** `until` (servers.ts) for a check that asks a process: polled every 50 ms. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

interface ClusterStatsReply {
  workers: number;
  connectionsPerWorker: number[];
  missing: number[];
}

for (const transport of TRANSPORTS) {
  test(`${transport}: stats() with a worker hung by SIGSTOP answers within scrapeTimeoutMs, with that worker in missing`, async () => {
    const cluster = await startClusterProcess(2, { reusePort: false, scrapeTimeoutMs: 300 }, { transport });
    const hung = cluster.pids[1]!;
    try {
      const before = await cluster.ask<ClusterStatsReply>('stats');
      assert.deepEqual([before.workers, before.missing], [2, []]);
      process.kill(hung, 'SIGSTOP');
      const started = performance.now();
      const during = await cluster.ask<ClusterStatsReply>('stats');
      const ms = performance.now() - started;
      assert.ok(ms < 1300, `stats() took ${ms.toFixed(0)} ms (scrapeTimeoutMs 300)`);
      assert.deepEqual([during.workers, during.missing, during.connectionsPerWorker.length], [1, [1], 1]);
      process.kill(hung, 'SIGCONT');
      const after = await cluster.ask<ClusterStatsReply>('stats');
      assert.deepEqual([after.workers, after.missing], [2, []]);
    } finally {
      try {
        process.kill(hung, 'SIGCONT');
      } catch {
        // gone already
      }
      await cluster.ask('close');
    }
  });

  test(`${transport}: relayTopics with a worker hung by SIGSTOP: the primary holds at most relayMaxBufferedBytes for it, drops and counts the rest; the worker gets exactly the others once it runs again`, async () => {
    const bound = 1024 * 1024;
    const cluster = await startClusterProcess(
      2,
      { reusePort: false, relayTopics: true, relayMaxBufferedBytes: bound },
      { transport, metricsPath: '/metrics', rooms: true },
    );
    const hung = cluster.pids[1]!;
    const clients = peers();
    try {
      // One subscriber of 'room' on each worker: connect until each worker has one, close the extras.
      const on: (Peer | undefined)[] = [undefined, undefined];
      for (let i = 0; i < 40 && on.includes(undefined); i++) {
        const before = (await cluster.ask<ClusterStatsReply>('stats')).connectionsPerWorker;
        const peer = await clients.connect(`ws://127.0.0.1:${cluster.port}/room`);
        let now = before;
        await eventually(
          async () =>
            (now = (await cluster.ask<ClusterStatsReply>('stats')).connectionsPerWorker).some((n, w) => n > before[w]!),
          5000,
          'the connection counted',
        );
        const worker = now.findIndex((n, w) => n > before[w]!);
        if (on[worker] === undefined) on[worker] = peer;
        else {
          peer.conn.close();
          await eventually(
            async () => (await cluster.ask<ClusterStatsReply>('stats')).connectionsPerWorker[worker] === before[worker],
            5000,
            'closed',
          );
        }
      }
      const [sender, receiver] = on as [Peer, Peer];
      sender.conn.send('hello');
      await receiver.waitFor(1, 'the relay works');

      process.kill(hung, 'SIGSTOP');
      const rssBefore = rssBytes(cluster.child.pid!);
      const messages = 4000;
      const text = 'x'.repeat(8 * 1024); // 32 MiB in all: 32 times the bound
      // In batches: the client's own send buffer (maxBufferedBytes, 16 MiB) must not fill.
      for (let batch = 1; batch <= 4; batch++) {
        for (let i = 0; i < messages / 4; i++) sender.conn.send(text);
        await eventually(
          async () =>
            sample(await scrape(cluster.port), 'lightws_remote_sent_messages_total', '0') ===
            1 + (batch * messages) / 4,
          60_000,
          `batch ${batch} sent to the primary`,
        );
      }
      const text1 = await scrape(cluster.port);
      const held = sample(text1, 'lightws_relay_buffered_bytes', '1');
      const dropped = sample(text1, 'lightws_relay_dropped_messages_total', '1');
      const grown = rssBytes(cluster.child.pid!) - rssBefore;
      assert.ok(held <= bound, `the primary holds ${held} bytes for the stopped worker (bound ${bound})`);
      assert.ok(dropped > messages / 2, `dropped ${dropped} of ${messages}`);
      // RSS is not asserted: it also holds the garbage of parsing 32 MiB of IPC JSON, whenever V8 collects it.
      process.stdout.write(
        `# primary RSS grew ${(grown / 1048576).toFixed(1)} MiB; held ${held} B; dropped ${dropped}\n`,
      );

      process.kill(hung, 'SIGCONT');
      await eventually(
        async () => sample(await scrape(cluster.port), 'lightws_relay_buffered_bytes', '1') === 0,
        20_000,
        'the backlog written',
      );
      await receiver.waitFor(1 + messages - dropped, 'what was not dropped');
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes
      assert.equal(receiver.inbox.length, 1 + messages - dropped, 'the worker misses exactly the dropped ones');
      sender.conn.send('after');
      await receiver.waitFor(2 + messages - dropped, 'a publish after it runs again');
    } finally {
      try {
        process.kill(hung, 'SIGCONT');
      } catch {
        // gone already
      }
      await clients.close();
      await cluster.ask('close');
    }
  });
}
