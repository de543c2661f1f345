/**
 * Load process for `bench:handshake`, built on lightws's own client role.
 * Forked by bench/handshake.ts; talks over IPC only (see control.ts).
 *
 *   node dist/bench/load/handshake-clients.js --port P --source 127.a.b [--in-flight 64]
 *
 * From `start` to `stop` it keeps --in-flight upgrades going: TCP connect,
 * upgrade request, 101 validated (RFC 6455 §4.1), then the connection is
 * terminated at once (TCP closed, no closing handshake) and the next one
 * launched. Every connection has a source (address, port) not used before
 * in this run (load/sources.ts), so the TIME_WAITs our closes leave
 * behind never get in the way, and the kernel never searches for a port.
 * Latency is connect() to open: TCP handshake + upgrade, as the client sees it.
 */
import { parseArgs } from 'node:util';
import { createClient } from '../../src/index.js';
import { bucketOf, HIST_SIZE } from '../lib/histogram.js';
import { exitWithParent } from '../lib/ipc.js';
import { die } from '../lib/status.js';
import { countError, type LoadCommand, report } from './control.js';
import { SourcePorts } from './sources.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    source: { type: 'string', default: '127.9.0' },
    'in-flight': { type: 'string', default: '64' },
  },
});
const URL_ = `ws://${values.host}:${Number(values.port)}/`;
const IN_FLIGHT = Math.max(1, Number(values['in-flight']));
const sources = new SourcePorts(values.source);

const client = createClient({ transport: 'handle', logLevel: 'silent' });
const hist = new Uint32Array(HIST_SIZE);
const errors: Record<string, number> = {};
const total = { opened: 0, failed: 0, retries: 0 };
let win = { opened: 0, failed: 0 };
let markAt = 0;
let markCpu = process.cpuUsage();
let running = false;
let active = 0;
let idle: (() => void) | null = null;

function launch(): void {
  while (running && active < IN_FLIGHT) {
    active++;
    const t = performance.now();
    client.connect(URL_, sources.next()).then(
      (conn) => {
        hist[bucketOf((performance.now() - t) * 1000)]!++;
        total.opened++;
        win.opened++;
        conn.terminate();
        settled();
      },
      (error: unknown) => {
        const code = (error as { code?: string }).code;
        // A source port someone else holds: not the server's doing, just take the next one.
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') total.retries++;
        else {
          countError(errors, error);
          total.failed++;
          win.failed++;
        }
        settled();
      },
    );
  }
}

function settled(): void {
  active--;
  if (running) launch();
  else if (active === 0) idle?.();
}

function windowReport(): void {
  const cpu = process.cpuUsage(markCpu);
  void report({
    type: 'report',
    ms: performance.now() - markAt,
    count: win.opened,
    hist: Array.from(hist),
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    extra: { failed: win.failed, open: client.connections },
  });
}

async function stop(): Promise<void> {
  running = false;
  // Let the upgrades in flight finish (bounded), then drop whatever is left.
  if (active > 0) {
    await new Promise<void>((resolve) => {
      idle = resolve;
      setTimeout(resolve, 5_000).unref();
    });
  }
  await client.close({ timeoutMs: 1_000 });
  await report({ type: 'stopped', extra: { ...total, activeAtStop: active }, errors });
  process.exit(0);
}

process.on('message', (cmd: LoadCommand) => {
  if (cmd.type === 'start') {
    running = true;
    launch();
    void report({ type: 'started' });
  } else if (cmd.type === 'mark') {
    hist.fill(0);
    win = { opened: 0, failed: 0 };
    markCpu = process.cpuUsage();
    markAt = performance.now();
    void report({ type: 'marked' });
  } else if (cmd.type === 'report') {
    windowReport();
  } else if (cmd.type === 'stop') {
    stop().catch((error: unknown) => die('handshake-clients', error));
  } else if (cmd.type === 'connect') {
    void report({ type: 'connected', open: 0, failed: 0, ms: 0, errors: {} }); // nothing to open up front
  }
});
exitWithParent();
void report({ type: 'ready' });
