import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../src/index.js';
import { until } from '../support/servers.js';

/**
 * What an idle cluster worker never runs, it does not load (issue #25, item 5): at a million
 * connections 53 workers each carry their modules, so the handover (a process restart), the
 * compact TLS transport and its record layer are imported on first use. Looked at in a real
 * worker, from its own list of compiled scripts, after its connection has had heartbeats.
 */

const script = fileURLToPath(new URL('../support/idle-worker.js', import.meta.url));

/** Loaded on first use only: a worker that serves plain WebSockets and never hands over runs none of them. */
const LAZY = [
  'handover/successor.js',
  'handover/sender.js',
  'transport/compact-tls-transport.js',
  'transport/compact-tls-connection.js',
  'tls/handoff.js',
  'tls/record-layer.js',
  'tls/record-observer.js',
  'tls/record-protection.js',
];

test('an idle cluster worker, heartbeats on, has loaded the server but not the handover, compact TLS or its record layer', async () => {
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async <T>(): Promise<T> => JSON.parse((await lines.next()).value as string) as T;
    const { port, pid } = await next<{ port: number; pid: number }>();
    let pings = 0;
    const client = createClient({ transport: 'handle', logLevel: 'silent', ping: () => void pings++ });
    const conn = await client.connect(`ws://127.0.0.1:${port}/`);
    // Heartbeats: the worker pinged and heard the Pong, twice; the echo path ran once too.
    conn.send('hello');
    await until(() => pings >= 2, 10_000, 'two heartbeat Pings');
    process.kill(pid, 'SIGUSR2');
    const { modules } = await next<{ modules: string[] }>();
    conn.terminate();
    await client.close();
    assert.ok(modules.includes('server.js') && modules.includes('reactor/lifecycle/timeouts.js'), modules.join(', '));
    assert.ok(modules.includes('cluster/cluster-worker.js'), 'it is a cluster worker');
    assert.deepEqual(
      LAZY.filter((path) => modules.includes(path)),
      [],
    );
  } finally {
    child.kill();
  }
});
