/**
 * Server CPU with N idle connections and heartbeats on: is the one timer
 * wheel really near free? A lightws server (handle transport) with
 * pingIntervalMs/idleTimeoutMs holds N connections from a lightws client
 * process (which answers pings); the server's CPU time is sampled over a
 * window with heartbeats flowing, and once more with heartbeats off.
 *
 *   npm run bench:heartbeat -- [--connections 19900] [--ping 10000] [--idle 25000] [--seconds 60]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, createServer } from '../src/index.js';
import { printTable } from './lib/format.js';
import { writeResults } from './lib/results.js';
import { sleep } from './lib/time.js';

const self = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    connections: { type: 'string', default: '19900' },
    ping: { type: 'string', default: '10000' },
    idle: { type: 'string', default: '25000' },
    seconds: { type: 'string', default: '60' },
    port: { type: 'string', default: '0' },
  },
});
const n = Number(values.connections);

type Message = { ready?: number; open?: number; cpu?: number; pings?: number; connections?: number };
const send = (message: Message): void => void process.send!(message);

if (values.role === 'server') {
  const ping = Number(values.ping);
  const server = createServer({ transport: 'handle', logLevel: 'silent', pingIntervalMs: ping, idleTimeoutMs: ping === 0 ? 0 : Number(values.idle) });
  const { port } = await server.listen(0, '127.0.0.1');
  send({ ready: port });
  process.on('message', () => {
    const cpu = process.cpuUsage();
    send({ cpu: cpu.user + cpu.system, pings: server.stats().pingsSent, connections: server.stats().connections });
  });
} else if (values.role === 'clients') {
  const client = createClient({ transport: 'handle', logLevel: 'silent' });
  const port = Number(values.port);
  let open = 0;
  for (let i = 0; i < n; i += 256) {
    await Promise.all(Array.from({ length: Math.min(256, n - i) }, (_, k) => {
      const index = i + k;
      // Explicit source address and port: the kernel's own port search crawls past ~18k sockets.
      return client.connect(`ws://127.0.0.1:${port}`, { localAddress: `127.1.${(index >> 14) & 255}.${1 + ((index >> 6) & 255)}`, localPort: 20000 + (index & 63) * 100 + (process.pid % 100) })
        .then(() => void open++, () => {});
    }));
  }
  send({ open });
  process.on('message', () => void client.close({ timeoutMs: 1000 }).then(() => process.exit(0)));
} else {
  const rows: (string | number)[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const ping of [Number(values.ping), 0]) {
    const server = fork(self, ['--role', 'server', '--ping', String(ping), '--idle', values.idle!], { stdio: 'inherit' });
    const port = ((await once(server, 'message')) as [Message])[0].ready!;
    const clients = fork(self, ['--role', 'clients', '--port', String(port), '--connections', String(n)], { stdio: 'inherit' });
    const open = ((await once(clients, 'message')) as [Message])[0].open!;
    const sample = async (child: ChildProcess): Promise<Message> => { child.send('stats'); return ((await once(child, 'message')) as [Message])[0]; };
    await sleep(3000); // let the ramp's work settle
    const before = await sample(server);
    const seconds = Number(values.seconds);
    process.stderr.write(`heartbeats ${ping === 0 ? 'off' : `every ${ping} ms`}: ${open} connections, measuring ${seconds} s\n`);
    await sleep(seconds * 1000);
    const after = await sample(server);
    const cpuMs = (after.cpu! - before.cpu!) / 1000;
    const pings = after.pings! - before.pings!;
    rows.push([ping === 0 ? 'off' : `${ping / 1000} s / ${Number(values.idle) / 1000} s`, after.connections!, pings, (cpuMs / seconds).toFixed(1), ((100 * cpuMs) / (seconds * 1000)).toFixed(2) + ' %']);
    results.push({ pingIntervalMs: ping, idleTimeoutMs: ping === 0 ? 0 : Number(values.idle), connections: after.connections, seconds, pingsSent: pings, serverCpuMs: cpuMs });
    clients.send('close');
    await once(clients, 'exit');
    server.kill();
    await once(server, 'exit');
  }
  printTable(['heartbeat (ping / idle)', 'connections', 'pings sent', 'server CPU ms/s', 'CPU of one core'], rows);
  writeResults('bench/results/heartbeat.json', { benchmark: 'heartbeat', command: process.argv.slice(1).join(' '), results });
}
