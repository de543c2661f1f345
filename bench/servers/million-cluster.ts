/**
 * The server side of bench/million.ts: a lightws cluster (handle transport,
 * echo, heartbeats on). Run as the primary it prints one JSON line
 * {"type":"ready","port","pids","mode","workerFlags"} and answers stdin lines with JSON lines:
 * 'stats' → {"type":"stats", ...ClusterStats}, 'pids' → {"type":"pids","pids"}, 'relay' → {"type":"relay","dropped","buffered"} (the topic relay's drops and backlog, summed over the workers),
 * 'close <ms>' → {"type":"closed","closed","terminated","ms"} (then exits): every
 * connection gets 1001 and up to <ms> to finish its closing handshake; 'reload <ms> [<concurrency>]' →
 * {"type":"reloaded",...ReloadResult,"errors","pids"}: primary.reload({ timeoutMs: ms, concurrency }), every worker
 * replaced by a successor that adopts its connections (bench:reload), and the new workers' pids. A worker sent
 * SIGUSR2 prints {"type":"heap",...} after a forced GC (heap-on-signal.ts).
 * Re-executed by startCluster, the same script is each worker.
 *
 *   node dist/bench/servers/million-cluster.js --workers 53 --ping-interval 30000 --idle-timeout 75000
 *        [--fill 19500] [--reuse-port auto|on|off] [--worker-flags "--max-semi-space-size=1"]
 *
 * --fill: a worker that holds this many connections stops accepting (closes
 * its listening socket, or its copy of the shared one). With one socket
 * shared by every worker (Node 20) the kernel spreads accepts very unevenly
 * (100k over 7 workers: 6.7k..19.9k, the busiest at the open-files cap
 * answering 503 and still winning the accept races); with SO_REUSEPORT it
 * spreads them by hash, evenly, and this is only a guard. 0 = never stop.
 * The workers' capacity (workers × fill) must cover N.
 *
 * --relay-topics (bench:reload's publish stream): the workers share topics through the primary
 * (startCluster's relayTopics); a text message 'S' subscribes its connection to the topic 'seq', one
 * starting with 'P' is published there as it is (to every subscriber but its sender); anything else
 * is echoed.
 *
 * --worker-flags: Node flags for the workers (default: startCluster's, the
 * primary's plus --max-semi-space-size=1; none for ws).
 *
 * --kind ws: the same for `ws` under node:cluster (round-robin: the primary
 * accepts and hands each connection to a worker), echo, and the usual ws
 * heartbeat (every --ping-interval: terminate who did not pong, ping the rest).
 */
import cluster, { type Worker } from 'node:cluster';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { WebSocket } from 'ws';
import { exitWithParent } from '../lib/ipc.js';
import { reportHeapOnSignal } from './heap-on-signal.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1' },
    'ping-interval': { type: 'string', default: '30000' },
    'idle-timeout': { type: 'string', default: '0' },
    fill: { type: 'string', default: '19500' },
    kind: { type: 'string', default: 'lightws' },
    'reuse-port': { type: 'string', default: 'auto' },
    'worker-flags': { type: 'string' },
    'relay-topics': { type: 'boolean', default: false },
  },
});
const workerFlags =
  values['worker-flags'] === undefined ? undefined : values['worker-flags'].split(' ').filter((f) => f !== '');
const ping = Number(values['ping-interval']);
const idle = Number(values['idle-timeout']) || (ping > 0 ? ping * 2 + 15_000 : 0);
/** How long a 'stats' waits for every worker: see lib/cluster-stats.ts. */
const STATS_TIMEOUT_MS = 30_000;
/** One JSON line on stdout, to the orchestrator. */
const reply = (value: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
async function runLightws(): Promise<void> {
  // Loaded here only, as ws is in runWs: neither system's workers carry the other in their fixed memory.
  const { createServer, startCluster } = await import('../../src/index.js');
  const fill = Number(values.fill);
  const exits: unknown[] = [];
  let full = false;
  const reusePort = values['reuse-port'] === 'auto' ? undefined : values['reuse-port'] === 'on';
  const node = await startCluster(
    {
      workers: Number(values.workers),
      port: 0,
      host: '127.0.0.1',
      restartDelayMs: 0,
      // Its stats are asked a few times a run, never scraped: a worker of a million on 2 cores can take
      // seconds to answer (a full GC, a batch of heartbeats), and a sum without it would be wrong.
      scrapeTimeoutMs: STATS_TIMEOUT_MS,
      onWorkerExit: (info) => void exits.push(info),
      relayTopics: values['relay-topics'],
      ...(reusePort === undefined ? {} : { reusePort }),
      ...(workerFlags === undefined ? {} : { execArgv: workerFlags }),
    },
    () => {
      reportHeapOnSignal();
      const server = createServer({
        // closeTimeoutMs: the shutdown of a million waits for every closing handshake (the 'close' command bounds it).
        logLevel: 'silent',
        transport: 'handle',
        pingIntervalMs: ping,
        idleTimeoutMs: idle,
        closeTimeoutMs: 600_000,
        message: (conn, data, isBinary) => {
          if (isBinary || (data[0] !== 0x53 && data[0] !== 0x50)) conn.send(data, isBinary);
          else if (data[0] === 0x53)
            conn.subscribe('seq'); // 'S'
          else conn.publish('seq', Buffer.from(data), false); // 'P…'
        },
        open: () => {
          if (fill > 0 && !full && server.connections >= fill) {
            full = true;
            server.stopAccepting();
          }
        },
      });
      return server;
    },
  );
  if (node.role === 'primary') {
    reply({
      type: 'ready',
      port: node.address.port,
      pids: node.pids(),
      mode: node.reusePort ? 'SO_REUSEPORT' : 'shared socket',
      workerFlags: workerFlags ?? 'default',
    });
    process.on('SIGINT', () => {});
    let closing = false;
    const close = (timeoutMs = 5000): void => {
      if (closing) return;
      closing = true;
      const t0 = performance.now();
      void node.close({ timeoutMs }).then((result) => {
        reply({ type: 'closed', ...result, ms: performance.now() - t0 });
        process.exit(0);
      });
    };
    createInterface({ input: process.stdin })
      .on('line', (line) => {
        if (line === 'stats') void node.stats().then((stats) => reply({ type: 'stats', ...stats, exits }));
        else if (line === 'pids') reply({ type: 'pids', pids: node.pids() });
        else if (line === 'relay')
          // The topic relay's own series (the primary's): publishes it dropped, bytes it holds, per worker.
          void node.metrics().then((text) => {
            const sum = (name: string): number =>
              text
                .split('\n')
                .filter((l) => l.startsWith(`${name}{`))
                .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
            reply({
              type: 'relay',
              dropped: sum('lightws_relay_dropped_messages_total'),
              buffered: sum('lightws_relay_buffered_bytes'),
            });
          });
        else if (line.startsWith('reload'))
          void node
            .reload({
              timeoutMs: Number(line.split(' ')[1] ?? 10_000),
              concurrency: Number(line.split(' ')[2]) || undefined,
            })
            .then(
              ({ workers, ...result }) =>
                reply({
                  type: 'reloaded',
                  ...result,
                  errors: workers.flatMap((w, i) => (w.error === undefined ? [] : [`worker ${i}: ${w.error}`])),
                  pids: node.pids(),
                }),
              (error: Error) => reply({ type: 'reloaded', error: error.message, pids: node.pids() }),
            );
        else if (line.startsWith('close')) close(Number(line.split(' ')[1] ?? 5000));
      })
      .on('close', () => close()); // the orchestrator went away
  }
}

type WsMessage =
  | { ws: 'listening'; port: number }
  | { ws: 'stats'; id: number; stats?: Record<string, number> }
  | { ws: 'close'; id: number; timeoutMs?: number; result?: { closed: number; terminated: number } };

async function runWs(): Promise<void> {
  if (cluster.isWorker) {
    const { WebSocketServer } = await import('ws');
    reportHeapOnSignal();
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      backlog: 511,
      perMessageDeflate: false,
      clientTracking: true,
    });
    const alive = new WeakSet<WebSocket>();
    let pingsSent = 0,
      idleTimeouts = 0,
      opened = 0,
      messagesIn = 0;
    wss.on('connection', (ws) => {
      opened++;
      alive.add(ws);
      ws.on('pong', () => alive.add(ws));
      ws.on('message', (data, isBinary) => {
        messagesIn++;
        ws.send(data, { binary: isBinary });
      });
      ws.on('error', () => {});
    });
    if (ping > 0) {
      setInterval(() => {
        for (const ws of wss.clients) {
          if (!alive.has(ws)) {
            idleTimeouts++;
            ws.terminate();
            continue;
          }
          alive.delete(ws);
          ws.ping();
          pingsSent++;
        }
      }, ping).unref();
    }
    wss.on('listening', () =>
      process.send!({ ws: 'listening', port: (wss.address() as { port: number }).port } satisfies WsMessage),
    );
    process.on('SIGINT', () => {});
    exitWithParent();
    process.on('message', (m: WsMessage) => {
      if (m.ws === 'stats') {
        process.send!({
          ws: 'stats',
          id: m.id,
          stats: {
            connections: wss.clients.size,
            handshaking: 0,
            opened,
            pingsSent,
            idleTimeouts,
            messagesIn,
            connectionsRefused: 0,
          },
        } satisfies WsMessage);
      } else if (m.ws === 'close') {
        const before = wss.clients.size;
        for (const ws of wss.clients) ws.close(1001);
        const done = (terminated: number): void =>
          void process.send!(
            { ws: 'close', id: m.id, result: { closed: before - terminated, terminated } } satisfies WsMessage,
            () => process.exit(0),
          );
        const timer = setTimeout(() => {
          const left = wss.clients.size;
          for (const ws of wss.clients) ws.terminate();
          done(left);
        }, m.timeoutMs ?? 5000);
        const poll = setInterval(() => {
          if (wss.clients.size === 0) {
            clearTimeout(timer);
            clearInterval(poll);
            done(0);
          }
        }, 100);
      }
    });
    return;
  }
  cluster.schedulingPolicy = cluster.SCHED_RR;
  // ws's closing handshake waits 30 s for the peer's Close by default: that is enough here.
  if (workerFlags !== undefined) cluster.setupPrimary({ execArgv: workerFlags });
  const workers: Worker[] = [];
  let port = 0;
  await Promise.all(
    Array.from(
      { length: Number(values.workers) },
      () =>
        new Promise<void>((resolve, reject) => {
          const w = cluster.fork();
          workers.push(w);
          w.once('exit', () => reject(new Error('ws worker exited before it listened')));
          w.on('message', (m: WsMessage) => {
            if (m.ws === 'listening') {
              port = m.port;
              resolve();
            }
          });
        }),
    ),
  );
  let nextId = 1;
  /** Each connected worker's reply by `timeoutMs`, with the worker's index. */
  const ask = (make: (id: number) => WsMessage, timeoutMs: number): Promise<(WsMessage & { worker: number })[]> =>
    Promise.all(
      [...workers.entries()]
        .filter(([, w]) => w.isConnected())
        .map(
          ([worker, w]) =>
            new Promise<(WsMessage & { worker: number }) | undefined>((resolve) => {
              const id = nextId++;
              const timer = setTimeout(() => {
                w.off('message', on);
                resolve(undefined);
              }, timeoutMs);
              const on = (m: WsMessage): void => {
                if ('id' in m && m.id === id) {
                  clearTimeout(timer);
                  w.off('message', on);
                  resolve({ ...m, worker });
                }
              };
              w.on('message', on);
              w.send(make(id));
            }),
        ),
    ).then((all) => all.filter((m) => m !== undefined));
  const exits: unknown[] = [];
  let closing = false;
  for (const [i, w] of workers.entries())
    w.on('exit', (code, signal) => {
      if (!closing) exits.push({ worker: i, code, signal });
    });
  reply({
    type: 'ready',
    port,
    pids: workers.map((w) => w.process.pid),
    mode: 'node:cluster round-robin',
    workerFlags: workerFlags ?? 'none',
  });
  process.on('SIGINT', () => {});
  const close = (timeoutMs = 5000): void => {
    if (closing) return;
    closing = true;
    const t0 = performance.now();
    void ask((id) => ({ ws: 'close', id, timeoutMs }), timeoutMs + 10_000).then((all) => {
      const result = (m: WsMessage): { closed: number; terminated: number } =>
        (m as { result?: { closed: number; terminated: number } }).result ?? { closed: 0, terminated: 0 };
      const closed = all.reduce((n, m) => n + result(m).closed, 0);
      const terminated = all.reduce((n, m) => n + result(m).terminated, 0);
      for (const w of workers) if (w.isConnected()) w.kill();
      reply({ type: 'closed', closed, terminated, ms: performance.now() - t0 });
      process.exit(0);
    });
  };
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      if (line === 'stats') {
        void ask((id) => ({ ws: 'stats', id }), STATS_TIMEOUT_MS).then((all) => {
          const snaps = all
            .map((m) => (m as { stats?: Record<string, number> }).stats)
            .filter((s): s is Record<string, number> => s !== undefined);
          const answered = new Set(all.map((m) => m.worker));
          const total: Record<string, unknown> = {};
          for (const snap of snaps)
            for (const [k, v] of Object.entries(snap)) total[k] = ((total[k] as number | undefined) ?? 0) + v;
          reply({
            type: 'stats',
            ...total,
            workers: snaps.length,
            connectionsPerWorker: snaps.map((s) => s.connections),
            missing: workers.flatMap((_, i) => (answered.has(i) ? [] : [i])),
            restarts: 0,
            exits,
          });
        });
      } else if (line === 'pids') reply({ type: 'pids', pids: workers.map((w) => w.process.pid) });
      else if (line.startsWith('close')) close(Number(line.split(' ')[1] ?? 5000));
    })
    .on('close', () => close());
}

if (values.kind === 'ws') await runWs();
else await runLightws();
