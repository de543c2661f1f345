/**
 * Slowloris: N half-open handshakes against a lightws server with
 * handshakeTimeoutMs, while one real client keeps echoing. Reports how long
 * until every half-open connection was closed and how many echoes the real
 * client completed meanwhile (its slowest round trip too).
 *
 *   npm run bench:slowloris -- [--connections 5000] [--timeout-ms 2000] [--transport handle|socket]
 */
import net from 'node:net';
import { benchArgs } from './lib/args.js';
import { createClient, createServer, type TransportName } from '../src/index.js';
import { printTable } from './lib/format.js';
import { sleep } from './lib/time.js';
import { RESULTS_OPTIONS, writeResults } from './lib/results.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    connections: { type: 'string', default: '5000' },
    'timeout-ms': { type: 'string', default: '2000' },
    transport: { type: 'string', default: 'handle' },
  },
});
const n = Number(values.connections);
const timeoutMs = Number(values['timeout-ms']);
const transport = values.transport as TransportName;
const server = createServer({
  transport,
  logLevel: 'silent',
  handshakeTimeoutMs: timeoutMs,
  message: (c, d, b) => void c.send(d, b),
});
const { port } = await server.listen(0, '127.0.0.1');

let echoes = 0;
let worst = 0;
let sentAt = 0;
const client = createClient({
  logLevel: 'silent',
  message: (conn) => {
    echoes++;
    worst = Math.max(worst, performance.now() - sentAt);
    sentAt = performance.now();
    conn.send('ping');
  },
});
const worker = await client.connect(`ws://127.0.0.1:${port}`);

let closed = 0;
const sockets: net.Socket[] = [];
for (let i = 0; i < n; i++) {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: `127.5.${1 + (i >> 8)}.${i & 255}` });
  socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n')); // and never the rest
  socket.on('close', () => void closed++);
  socket.on('error', () => {});
  sockets.push(socket);
}
for (let i = 0; server.stats().handshaking < n; i++) {
  if (i % 100 === 99) process.stderr.write(`half-open so far: ${server.stats().handshaking} (closed ${closed})\n`);
  await sleep(20);
}
const started = performance.now();
sentAt = started;
worker.send('ping');
while (closed < n && performance.now() - started < timeoutMs + 10000) await sleep(10);
const tookMs = performance.now() - started;
const stats = server.stats();
const row = {
  transport,
  halfOpen: n,
  handshakeTimeoutMs: timeoutMs,
  allClosed: closed === n,
  closedWithinMs: Math.round(tookMs),
  handshakeTimeouts: stats.handshakeTimeouts,
  echoesMeanwhile: echoes,
  worstEchoMs: Math.round(worst),
  poolLentBuffers: stats.pool.lentBuffers,
};
printTable(
  ['transport', 'half-open', 'timeout', 'all closed', 'closed within', 'echoes meanwhile', 'worst echo', 'pool lent'],
  [
    [
      transport,
      n,
      `${timeoutMs} ms`,
      String(row.allClosed),
      `${row.closedWithinMs} ms`,
      echoes,
      `${row.worstEchoMs} ms`,
      row.poolLentBuffers,
    ],
  ],
);
console.log(`\nresults in ${writeResults(`slowloris-${transport}`, { benchmark: 'slowloris', result: row }, values)}`);
await client.close();
await server.close();
process.exit(0);
