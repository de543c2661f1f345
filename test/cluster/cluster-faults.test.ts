/**
 * The cluster when one of its processes misbehaves (issue #20): a worker hung
 * (SIGSTOP) or killed in the middle of a scrape, and new connections while
 * the cluster drains. Real processes, real signals, on both transports. The
 * primary's socket is shared (reusePort: false) so that the kernel can only
 * hand new connections to the workers that still accept: with SO_REUSEPORT a
 * stopped worker's own socket would keep its share (docs/reliability.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { RawClient } from '../support/raw-client.js';
import { parseExposition } from '../support/prometheus-parser.js';
import { startClusterProcess } from '../support/cluster-process.js';
import { TRANSPORTS } from '../support/servers.js';

interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** One GET on a new connection; rejects with the socket error (ECONNREFUSED, ECONNRESET) or after `deadlineMs`. */
function get(port: number, path: string, deadlineMs = 8000): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => void (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
    });
    req.setTimeout(deadlineMs, () => req.destroy(new Error(`no answer to GET ${path} in ${deadlineMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** worker label → lightws_worker_up value. */
function workersUp(text: string): Record<string, number> {
  const family = parseExposition(text).get('lightws_worker_up');
  assert.ok(family !== undefined, 'lightws_worker_up is rendered');
  assert.equal(family.type, 'gauge');
  return Object.fromEntries(family.samples.map((s) => [s.labels.worker!, s.value]));
}

/** Which workers have a lightws_connections sample. */
function workersIn(text: string): string[] {
  const samples = parseExposition(text).get('lightws_connections')?.samples ?? [];
  return [...new Set(samples.map((s) => s.labels.worker!))].sort();
}

const observed = { metricsPath: '/metrics', healthPath: '/healthz' } as const;

for (const transport of TRANSPORTS) {
  test(`${transport}: a worker hung by SIGSTOP: /metrics answers within scrapeTimeoutMs with the workers that replied and lightws_worker_up 0 for it; /healthz answers 200; after SIGCONT it is up again`, async () => {
    const cluster = await startClusterProcess(2, { reusePort: false }, { ...observed, transport });
    const hung = cluster.pids[1]!;
    try {
      const before = await get(cluster.port, '/metrics');
      assert.equal(before.status, 200);
      assert.deepEqual(workersUp(before.body), { '0': 1, '1': 1 });

      process.kill(hung, 'SIGSTOP');
      for (let i = 0; i < 3; i++) {
        const scrape = await get(cluster.port, '/metrics');
        assert.equal(scrape.status, 200, `scrape ${i}: ${scrape.body}`);
        // The default scrapeTimeoutMs is 500 ms; well under Prometheus's 10 s scrape timeout.
        assert.ok(scrape.ms < 1500, `scrape ${i} took ${scrape.ms.toFixed(0)} ms`);
        assert.deepEqual(workersUp(scrape.body), { '0': 1, '1': 0 });
        assert.deepEqual(workersIn(scrape.body), ['0', 'all'], 'the stopped worker has no made-up figures');
        const health = await get(cluster.port, '/healthz');
        assert.deepEqual([health.status, health.body], [200, 'ok\n'], 'the worker that answers serves');
        assert.ok(health.ms < 1000, `/healthz took ${health.ms.toFixed(0)} ms`);
      }

      process.kill(hung, 'SIGCONT');
      const after = await get(cluster.port, '/metrics');
      assert.equal(after.status, 200);
      assert.deepEqual(workersUp(after.body), { '0': 1, '1': 1 });
    } finally {
      try {
        process.kill(hung, 'SIGCONT');
      } catch {
        // gone already
      }
      await cluster.ask('close');
    }
  });

  test(`${transport}: a worker killed (SIGKILL) during a scrape: the scrape answers at once, without it, not at scrapeTimeoutMs`, async () => {
    const cluster = await startClusterProcess(
      2,
      { reusePort: false, scrapeTimeoutMs: 4000 },
      { ...observed, transport },
    );
    const victim = cluster.pids[1]!;
    try {
      process.kill(victim, 'SIGSTOP'); // so that it cannot answer before it dies
      const scrape = get(cluster.port, '/metrics');
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(victim, 'SIGKILL');
      const answer = await scrape;
      assert.equal(answer.status, 200, answer.body);
      assert.ok(answer.ms < 2000, `the scrape took ${answer.ms.toFixed(0)} ms (scrapeTimeoutMs 4000)`);
      assert.deepEqual(workersUp(answer.body), { '0': 1, '1': 0 });
    } finally {
      await cluster.ask('close');
    }
  });

  test(`${transport}: while the cluster drains (a worker just died, its restart due), a new connection is refused at once, as a single process refuses it`, async () => {
    const cluster = await startClusterProcess(2, {}, { ...observed, transport });
    // They never answer the server's Close: the drain lasts its whole timeout (6 s).
    const stubborn = await Promise.all(Array.from({ length: 12 }, () => RawClient.open(cluster.port)));
    // A worker that died just before: its restart (due restartDelayMs = 200 ms after its exit) must not
    // listen again during the drain.
    // The one with fewer of them (a shared socket spreads accepts unevenly): the other's hold the drain open.
    const per = (await cluster.ask<{ connectionsPerWorker: number[] }>('stats')).connectionsPerWorker;
    process.kill(cluster.pids[per[0]! < per[1]! ? 0 : 1]!, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = performance.now();
    const closed = cluster.ask<{ closed: number; terminated: number }>('close 6000');
    await new Promise((resolve) => setTimeout(resolve, 500));
    let done = false;
    void closed.finally(() => void (done = true));
    // Until the drain ends (6 s): the dead worker's restart would be listening by then.
    for (let i = 0; !done; i++) {
      const started = performance.now();
      const outcome = await get(cluster.port, '/healthz', 3000).then(
        (answer) => `HTTP ${answer.status}`,
        (error: Error & { code?: string }) => error.code ?? error.message,
      );
      const ms = performance.now() - started;
      if (done) break; // the primary exits: a late attempt proves nothing
      // Refused by the kernel: no listening socket is left (not a SYN queued for a worker that will never accept).
      assert.equal(outcome, 'ECONNREFUSED', `attempt ${i}: ${outcome} after ${ms.toFixed(0)} ms`);
      assert.ok(ms < 1000, `attempt ${i}: ${outcome} after ${ms.toFixed(0)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await closed;
    const drained = performance.now() - closing;
    assert.ok(drained > 4000, `the drain went on meanwhile (${drained.toFixed(0)} ms), held by the stubborn ones`);
    for (const client of stubborn) client.socket.destroy();
  });
}
