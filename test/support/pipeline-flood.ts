import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';

/**
 * Issue #20 case 1, measured: `lightws chat` on one transport, one
 * connection pipelines `GET /metrics` 29,411 times (1 MB) and never reads.
 * Prints the server's peak pool bytes (lightws_pool_peak_lent_bytes, scraped
 * on another connection) and its peak and final RSS (VmHWM, VmRSS), and when
 * whether the flooding connection was closed (by the HTTP timeout: a client
 * that does not read cannot see it).
 *
 *   node dist/test/support/pipeline-flood.js --transport handle|socket [--port 31999] [--seconds 15]
 */

const { values } = parseArgs({
  options: {
    transport: { type: 'string', default: 'handle' },
    port: { type: 'string', default: '31999' },
    seconds: { type: 'string', default: '15' },
    requests: { type: 'string', default: '29411' },
  },
});
const port = Number(values.port);
const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
const server = spawn(
  process.execPath,
  [cli, 'chat', '--port', String(port), '--host', '127.0.0.1', '--transport', values.transport, '--log-level', 'warn'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise<void>((resolve) => server.stdout.once('data', () => resolve()));

function memory(): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

async function scrape(): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await response.text();
  return Number(/^lightws_pool_peak_lent_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

const before = memory();
const flood = net.connect(port, '127.0.0.1');
await new Promise((resolve) => flood.once('connect', resolve));
flood.pause(); // never reads
const started = Date.now();
flood.on('error', () => {});
flood.write(Buffer.from('GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(Number(values.requests))));
let peakPool = 0;
while (Date.now() - started < Number(values.seconds) * 1000) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  peakPool = Math.max(peakPool, await scrape().catch(() => 0));
}
const after = memory();
const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const metric = (name: string): string => new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text)?.[1] ?? '?';
flood.destroy();
server.kill('SIGTERM');
console.log(
  JSON.stringify({
    transport: values.transport,
    peakPoolMiB: +(peakPool / 2 ** 20).toFixed(1),
    rssBeforeMiB: +before.rss.toFixed(0),
    peakRssMiB: +after.hwm.toFixed(0),
    rssAtEndMiB: +after.rss.toFixed(0),
    slowConsumersClosed: metric('lightws_slow_consumers_closed_total'),
    httpTimeouts: metric('lightws_timeouts_total\\{kind="http"\\}'),
    httpRequests: metric('lightws_http_requests_total'),
  }),
);
