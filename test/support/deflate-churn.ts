import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

/**
 * Memory after a permessage-deflate attack (issue #20): `lightws echo
 * --deflate window`, N clients with deflate each send one compressible
 * message (so the server holds their zlib contexts), then all close. Prints
 * the server's RSS before, at the peak, and `--settle` seconds after the last
 * close (the pool drops its free lists after 10 quiet seconds).
 *
 *   node dist/test/support/deflate-churn.js [--transport handle|socket] [--clients 1213] [--port 31998] [--settle 15]
 *
 * Set MALLOC_MMAP_THRESHOLD_ (e.g. 65536) in the environment to see glibc return zlib's state at once.
 */

const { values } = parseArgs({
  options: {
    transport: { type: 'string', default: 'handle' },
    clients: { type: 'string', default: '1213' },
    port: { type: 'string', default: '31998' },
    settle: { type: 'string', default: '15' },
  },
});
const port = Number(values.port);
const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
const server = spawn(
  process.execPath,
  [cli, 'echo', '--port', String(port), '--host', '127.0.0.1', '--transport', values.transport, '--deflate', 'window'],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } },
);
await new Promise<void>((resolve) => server.stdout.once('data', () => resolve()));

function rssMiB(field = 'VmRSS'): number {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  return Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024);
}

const before = rssMiB();
const message = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, text: 'lorem ipsum dolor' })));
const sockets: WebSocket[] = [];
for (let i = 0; i < Number(values.clients); i++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: true });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(message);
  await new Promise((resolve) => ws.once('message', resolve));
  sockets.push(ws);
}
const open = rssMiB();
await Promise.all(
  sockets.map(
    (ws) =>
      new Promise((resolve) => {
        ws.once('close', resolve);
        ws.close();
      }),
  ),
);
await new Promise((resolve) => setTimeout(resolve, Number(values.settle) * 1000));
const after = rssMiB();
const peak = rssMiB('VmHWM');
server.kill('SIGTERM');
console.log(
  JSON.stringify({
    transport: values.transport,
    clients: sockets.length,
    mmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? 'default',
    rssBeforeMiB: before,
    rssWithContextsMiB: open,
    peakRssMiB: peak,
    rssAfterMiB: after,
  }),
);
