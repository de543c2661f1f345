/**
 * Load process for `bench:http`: keep-alive HTTP/1.1 requests, one in flight per connection.
 * Forked by bench/http.ts; talks over IPC only (see control.ts).
 *
 *   node dist/bench/load/http-clients.js --port P [--path /healthz] [--connections 64]
 *
 * `connect` opens --connections TCP connections; from `start` each sends `GET <path>`, reads the
 * response (status line, Content-Length, body) and sends the next at once: what a load
 * balancer's health checks or any keep-alive HTTP client does, as fast as the server answers.
 * A response that is not 200, or a connection the server closes, is counted as an error.
 * Latency is request written to response read, as the client sees it. Plain net sockets and a
 * minimal parser, so that the load costs as little as it can of the two cores it shares.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { bucketOf, HIST_SIZE } from '../lib/histogram.js';
import { exitWithParent } from '../lib/ipc.js';
import { die } from '../lib/status.js';
import { countError, type LoadCommand, report } from './control.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    path: { type: 'string', default: '/healthz' },
    connections: { type: 'string', default: '64' },
  },
});
const REQUEST = Buffer.from(
  `GET ${values.path} HTTP/1.1\r\nHost: ${values.host}\r\nUser-Agent: lightws-bench\r\n\r\n`,
  'latin1',
);
const CONNECTIONS = Math.max(1, Number(values.connections));
const CRLFCRLF = Buffer.from('\r\n\r\n');

const hist = new Uint32Array(HIST_SIZE);
const errors: Record<string, number> = {};
const total = { responses: 0, failed: 0, closedByServer: 0 };
let win = { responses: 0, failed: 0 };
let markAt = 0;
let markCpu = process.cpuUsage();
let running = false;
const sockets: net.Socket[] = [];

/** One keep-alive connection's request loop. */
function drive(socket: net.Socket): void {
  let pending: Buffer = Buffer.alloc(0);
  let sentAt = 0;
  const send = (): void => {
    if (!running || socket.destroyed) return;
    sentAt = performance.now();
    socket.write(REQUEST);
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const headEnd = pending.indexOf(CRLFCRLF);
      if (headEnd < 0) return;
      const head = pending.toString('latin1', 0, headEnd);
      if (/\r\ntransfer-encoding:/i.test(head)) {
        // This minimal client reads Content-Length bodies only: a chunked one would misparse.
        countError(errors, new Error('chunked response (the servers must send Content-Length)'));
        total.failed++;
        win.failed++;
        socket.destroy();
        return;
      }
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      const end = headEnd + 4 + length;
      if (pending.length < end) return;
      pending = pending.subarray(end);
      if (head.startsWith('HTTP/1.1 200 ')) {
        hist[bucketOf((performance.now() - sentAt) * 1000)]!++;
        total.responses++;
        win.responses++;
      } else {
        countError(errors, new Error(head.split('\r\n')[0]));
        total.failed++;
        win.failed++;
      }
      send();
    }
  });
  socket.on('close', () => {
    if (running) total.closedByServer++;
  });
  socket.on('error', (error) => void countError(errors, error));
  socket.once('start', send);
}

async function connect(): Promise<void> {
  const t0 = performance.now();
  let failed = 0;
  await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () =>
        new Promise<void>((resolve) => {
          const socket = net.connect({ host: values.host, port: Number(values.port), noDelay: true });
          socket.once('connect', () => {
            sockets.push(socket);
            drive(socket);
            resolve();
          });
          socket.once('error', (error) => {
            countError(errors, error);
            failed++;
            resolve();
          });
        }),
    ),
  );
  await report({ type: 'connected', open: sockets.length, failed, ms: performance.now() - t0, errors });
}

function windowReport(): void {
  const cpu = process.cpuUsage(markCpu);
  void report({
    type: 'report',
    ms: performance.now() - markAt,
    count: win.responses,
    hist: Array.from(hist),
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    extra: { failed: win.failed },
  });
}

async function stop(): Promise<void> {
  running = false;
  for (const socket of sockets) socket.destroy();
  await report({ type: 'stopped', extra: { ...total, connections: sockets.length }, errors });
  process.exit(0);
}

process.on('message', (cmd: LoadCommand) => {
  if (cmd.type === 'connect') {
    connect().catch((error: unknown) => die('http-clients', error));
  } else if (cmd.type === 'start') {
    running = true;
    for (const socket of sockets) socket.emit('start');
    void report({ type: 'started' });
  } else if (cmd.type === 'mark') {
    hist.fill(0);
    win = { responses: 0, failed: 0 };
    markCpu = process.cpuUsage();
    markAt = performance.now();
    void report({ type: 'marked' });
  } else if (cmd.type === 'report') {
    windowReport();
  } else if (cmd.type === 'stop') {
    stop().catch((error: unknown) => die('http-clients', error));
  }
});
exitWithParent();
void report({ type: 'ready' });
