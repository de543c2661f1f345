/**
 * Server CPU with N idle connections and heartbeats on: is the one timer wheel really near free?
 * A lightws server (handle transport, servers/heartbeat-server.ts) with pingIntervalMs /
 * idleTimeoutMs holds N connections from a lightws client process (load/heartbeat-clients.ts,
 * which answers pings); the server's CPU time is sampled over a window with heartbeats flowing,
 * and once more with heartbeats off.
 *
 *   npm run bench:heartbeat -- [--connections 19900] [--ping 10000] [--idle 25000] [--seconds 60]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { IpcChild } from './lib/children.js';
import { printTable } from './lib/format.js';
import { RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { die, status } from './lib/status.js';
import { sleep } from './lib/time.js';
import type { HeartbeatClientsCommand, HeartbeatClientsReport } from './load/heartbeat-clients.js';
import { sourceBlock } from './load/sources.js';
import type { HeartbeatServerCommand, HeartbeatServerReport } from './servers/heartbeat-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    connections: { type: 'string', default: '19900' },
    ping: { type: 'string', default: '10000' },
    idle: { type: 'string', default: '25000' },
    seconds: { type: 'string', default: '60' },
  },
});
const n = Number(values.connections);
const seconds = Number(values.seconds);
const idle = Number(values.idle);

async function round(
  ping: number,
  index: number,
): Promise<{ row: (string | number)[]; result: Record<string, unknown> }> {
  const server = new IpcChild<HeartbeatServerCommand, HeartbeatServerReport>(
    'heartbeat server',
    join(here, 'servers', 'heartbeat-server.js'),
    ['--ping', String(ping), '--idle', String(idle)],
  );
  let clients: IpcChild<HeartbeatClientsCommand, HeartbeatClientsReport> | undefined;
  try {
    const { port } = await server.next('ready', 15_000);
    clients = new IpcChild('heartbeat clients', join(here, 'load', 'heartbeat-clients.js'), [
      '--port',
      String(port),
      '--connections',
      String(n),
      '--source',
      sourceBlock(index),
    ]);
    const { open, failed } = await clients.next('connected', 300_000);
    await sleep(3000); // let the ramp's work settle
    const before = await server.ask({ type: 'stats' }, 'stats', 10_000);
    status(
      `heartbeats ${ping === 0 ? 'off' : `every ${ping} ms`}: ${open} connections (${failed} failed), measuring ${seconds} s`,
      true,
    );
    await sleep(seconds * 1000);
    const after = await server.ask({ type: 'stats' }, 'stats', 10_000);
    const cpuMs = (after.cpuUs - before.cpuUs) / 1000;
    const pings = after.pingsSent - before.pingsSent;
    return {
      row: [
        ping === 0 ? 'off' : `${ping / 1000} s / ${idle / 1000} s`,
        after.connections,
        pings,
        (cpuMs / seconds).toFixed(1),
        ((100 * cpuMs) / (seconds * 1000)).toFixed(2) + ' %',
      ],
      result: {
        pingIntervalMs: ping,
        idleTimeoutMs: ping === 0 ? 0 : idle,
        connections: after.connections,
        seconds,
        pingsSent: pings,
        serverCpuMs: cpuMs,
      },
    };
  } finally {
    await clients?.ask({ type: 'close' }, 'closed', 30_000).catch(() => null);
    await server.ask({ type: 'close' }, 'closed', 10_000).catch(() => null);
    await Promise.all([clients?.stop(5_000), server.stop(5_000)]);
  }
}

async function main(): Promise<void> {
  const rounds = [await round(Number(values.ping), 0), await round(0, 1)];
  printTable(
    ['heartbeat (ping / idle)', 'connections', 'pings sent', 'server CPU ms/s', 'CPU of one core'],
    rounds.map((r) => r.row),
  );
  const written = writeResults('heartbeat', { benchmark: 'heartbeat', results: rounds.map((r) => r.result) }, values);
  console.log(`\nresults in ${written}`);
}

main().catch((error: unknown) => die('bench:heartbeat failed', error));
