/**
 * Load process for bench:deflate's churn run: connections opening at a steady rate, each
 * exchanging compressible messages with an echo server and closing, for as long as it runs, so
 * that compression contexts are created and freed all the time (what fragments a heap that keeps
 * a zlib context per connection). Forked by bench/deflate.ts; IPC only.
 *
 *   node dist/bench/load/churn-clients.js --port P --source 127.a.b --rate 20 --messages 20 --size 2048
 *
 * Each connection offers permessage-deflate as a browser does (lightws's client role, window mode
 * with no window bound: `permessage-deflate; client_max_window_bits`), sends --messages JSON
 * messages of --size bytes one at a time (each after the echo of the last), then closes.
 */
import { parseArgs } from 'node:util';
import { type Connection, createClient } from '../../src/index.js';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { jsonPayload } from '../lib/json-payload.js';
import { die } from '../lib/status.js';
import { SourcePorts } from './sources.js';

export type ChurnCommand = { type: 'start' } | { type: 'report' } | { type: 'stop' };
export type ChurnReport =
  | { type: 'ready' }
  | { type: 'started' }
  | {
      type: 'report';
      opened: number;
      closed: number;
      failed: number;
      messages: number;
      open: number;
      deflated: number;
      badEcho: number;
    }
  | { type: 'stopped' };

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    source: { type: 'string', default: '127.9.0' },
    rate: { type: 'string', default: '20' },
    messages: { type: 'string', default: '20' },
    size: { type: 'string', default: '2048' },
  },
});
const RATE = Number(values.rate);
const MESSAGES = Number(values.messages);
// A few different messages, so that no compressor sees only one string.
const PAYLOADS = [1, 2, 3, 4].map((seed) => jsonPayload(Number(values.size), seed));
const URL_ = `ws://${values.host}:${Number(values.port)}/`;
const sources = new SourcePorts(values.source);
const totals = { opened: 0, closed: 0, failed: 0, messages: 0, deflated: 0, badEcho: 0 };

const client = createClient<{ left: number; expect: string }>({
  transport: 'handle',
  logLevel: 'silent',
  deflate: 'window',
  deflateWindowBits: 15,
  message(conn, data) {
    const state = conn.data;
    if (data.length !== state.expect.length) totals.badEcho++;
    totals.messages++;
    if (--state.left === 0) conn.close(1000);
    else next(conn);
  },
  close: () => void totals.closed++,
});

function next(conn: Connection<{ left: number; expect: string }>): void {
  const payload = PAYLOADS[(totals.messages + conn.data.left) & 3]!;
  conn.data.expect = payload;
  conn.send(payload);
}

async function openOne(): Promise<void> {
  try {
    const conn = await client.connect(URL_, { ...sources.next(), data: { left: MESSAGES, expect: '' } });
    totals.opened++;
    if (client.stats().deflate.connections > totals.deflated) totals.deflated = client.stats().deflate.connections;
    next(conn);
  } catch {
    totals.failed++;
  }
}

let ticker: NodeJS.Timeout | undefined;
function start(): void {
  const t0 = performance.now();
  let started = 0;
  // Every 10 ms, open what is due since the start: a steady rate whatever the timer's jitter.
  ticker = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    for (; started < due; started++) void openOne();
  }, 10);
}

process.on('message', (cmd: ChurnCommand) => {
  const run = async (): Promise<void> => {
    if (cmd.type === 'start') {
      start();
      await toParent({ type: 'started' });
    } else if (cmd.type === 'report') {
      await toParent({ type: 'report', ...totals, open: client.connections });
    } else {
      clearInterval(ticker);
      await client.close({ timeoutMs: 2000 });
      await toParent({ type: 'stopped' });
      process.exit(0);
    }
  };
  run().catch((error: unknown) => die('churn-clients', error));
});
exitWithParent();
void toParent({ type: 'ready' });
