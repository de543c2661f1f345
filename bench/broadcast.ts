/**
 * One message to all N connections: deliveries per second and time to the last delivery, lightws
 * (framed once, the same bytes written to every connection) against ws's idiomatic loop of
 * `send` and uWebSockets.js's `app.publish`, in the same run.
 *
 *   npm run bench:broadcast -- [--connections 1000,10000] [--sizes 16,1024,16384] [--broadcasts 20]
 *        [--warmup 3] [--gap-ms 50] [--processes 2] [--kinds handle,socket,ws,uws]
 *
 * For each N, every server (bench/servers/<kind>.js --mode broadcast) is started and held at N
 * connections by its own --processes load processes (load/broadcast-clients.ts); then the
 * broadcasts are taken in turn (handle, socket, ws, uws, then the next round in a rotated order),
 * so that a burst of load from elsewhere on the shared machine hits all servers alike. Idle
 * servers cost nothing while another one is measured.
 *
 * One broadcast: the load processes are told to expect it, the server's CPU is read (`stats`), the
 * time t0 is taken and `broadcast <bytes>` written to the server's stdin; each load process
 * reports when its last connection got the message. Time to last delivery = the latest report −
 * t0, on one clock (timeOrigin + now, per-process offset measured by IPC ping-pong). It includes
 * the stdin pipe hop (~0.1 ms, the same for every server). Deliveries/s = N / that time. Server CPU
 * per broadcast = user+system CPU between the `stats` before and after (after the last delivery,
 * so the kernel-side writes the server pays for are in), minus the cost of a `stats` alone.
 * Results: bench/out/broadcast.json (--publish: bench/results/, see lib/results.ts).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { IpcChild } from './lib/children.js';
import { formatBytes, formatRatio, printTable } from './lib/format.js';
import { packageVersion, RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { median, percentile } from './lib/stats.js';
import { die, status } from './lib/status.js';
import { clock, clockOffset, sleep } from './lib/time.js';
import type { BroadcastCommand, BroadcastReport, RoundReport } from './load/broadcast-clients.js';
import { sourceBlock } from './load/sources.js';
import { parseKinds, ProtocolServer } from './servers/launch.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    connections: { type: 'string', default: '1000,10000' },
    sizes: { type: 'string', default: '16,1024,16384' },
    broadcasts: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    'gap-ms': { type: 'string', default: '50' },
    processes: { type: 'string', default: '2' },
    kinds: { type: 'string', default: 'handle,socket,ws,uws,bun' },
    'in-flight': { type: 'string', default: '256' },
    // bench:deflate: realistic JSON text instead of 'a' bytes, and a browser's permessage-deflate offer.
    payload: { type: 'string', default: 'bytes' },
    'offer-deflate': { type: 'boolean', default: false },
  },
});
/** A browser's offer (Chromium, Node's WebSocket): what the servers are measured answering. */
const BROWSER_OFFER = 'permessage-deflate; client_max_window_bits';
const NS = args.connections.split(',').map(Number);
const SIZES = args.sizes.split(',').map(Number);
const M = Number(args.broadcasts);
const WARMUP = Number(args.warmup);
const GAP_MS = Number(args['gap-ms']);
const K = Number(args.processes);
const KINDS = parseKinds(args.kinds);
// 20,000 open files per process: a load process holds at most ~19.9k connections.
for (const n of NS)
  if (!(n > 0 && n / K <= 19_900))
    throw new RangeError(`--connections ${n} needs more --processes (≤ 19,900 per process)`);

/** A load process, and its clock minus ours in ms (see calibrate). */
type Load = IpcChild<BroadcastCommand, BroadcastReport> & { offset: number };

/** Measures and keeps the load process's clock offset. */
async function calibrate(load: Load): Promise<{ offset: number; rttMs: number }> {
  const best = await clockOffset(async () => (await load.ask({ type: 'ping' }, 'pong', 5_000)).at);
  load.offset = best.offset;
  return best;
}

/** Server CPU (user+system, and user alone) as the server reports it in `stats`, µs; and its connections. */
async function serverCpu(server: ProtocolServer): Promise<{ cpu: number; user: number; connections: number }> {
  const s = await server.stats();
  return { cpu: s.cpuUser + s.cpuSystem, user: s.cpuUser, connections: s.connections };
}

interface Sample {
  kind: string;
  n: number;
  size: number;
  ttlMs: number;
  firstMs: number;
  sendMs: number;
  cpuMs: number;
  userMs: number;
  deliveries: number;
  sent: number;
  badSize: number;
}
interface Held {
  kind: string;
  server: ProtocolServer;
  loads: Load[];
  native: boolean;
  info: Record<string, unknown>;
  statsCpuUs: number;
}

let blockIndex = 0;
/** Starts one server and its load processes, holding n connections. Null when uWS is not native. */
async function hold(kind: string, n: number, notes: string[]): Promise<Held | null> {
  const server = new ProtocolServer(kind, 'broadcast');
  const ready = await server.ready();
  if (kind === 'uws' && !ready.native) {
    notes.push(
      `uWS skipped: the native binary did not load (${String(ready['nativeError'])}); the package's JS fallback is not uWS.`,
    );
    await server.close();
    return null;
  }
  const loads: Load[] = [];
  for (let k = 0; k < K; k++) {
    const count = Math.floor(n / K) + (k < n % K ? 1 : 0);
    const sources = `${sourceBlock(blockIndex++)}.1`;
    const argv = [
      '--port',
      String(ready.port),
      '--connections',
      String(count),
      '--sources',
      sources,
      '--in-flight',
      args['in-flight'],
      ...(args['offer-deflate'] ? ['--extensions', BROWSER_OFFER] : []),
    ];
    loads.push(
      Object.assign(
        new IpcChild<BroadcastCommand, BroadcastReport>(
          `${kind} load ${k}`,
          join(here, 'load', 'broadcast-clients.js'),
          argv,
        ),
        { offset: 0 },
      ),
    );
  }
  await Promise.all(loads.map((l) => l.next('ready', 15_000)));
  const connected = await Promise.all(loads.map((l) => l.ask({ type: 'connect' }, 'connected', 180_000)));
  const open = connected.reduce((s, c) => s + c.open, 0);
  if (open !== n)
    throw new Error(`${kind}: ${open}/${n} connections opened: ${JSON.stringify(connected.map((c) => c.errors))}`);
  // The server counts a connection once its 101 is written; the client may see it a moment earlier.
  let seen = 0;
  for (let t = 0; t < 100 && (seen = (await server.stats()).connections) !== n; t++) await sleep(50);
  if (seen !== n) throw new Error(`${kind}: the server counts ${seen} connections, expected ${n}`);
  const clocks = await Promise.all(loads.map((l) => calibrate(l)));
  // What a `stats` round costs the server on its own: subtracted from every CPU measurement.
  const idle: number[] = [];
  for (let i = 0; i < 9; i++) idle.push(-(await serverCpu(server)).cpu + (await serverCpu(server)).cpu);
  const { port: _, ready: _r, ...info } = ready as Record<string, unknown>;
  status(
    `${kind}: ${n} connections in ${(Math.max(...connected.map((c) => c.ms)) / 1000).toFixed(1)} s; clock offsets ${clocks.map((c) => `${c.offset.toFixed(3)}±${(c.rttMs / 2).toFixed(3)}`).join(', ')} ms`,
    true,
  );
  return { kind, server, loads, native: ready.native, info, statsCpuUs: median(idle) };
}

async function broadcastOnce(h: Held, n: number, size: number, id: number): Promise<Sample> {
  await Promise.all(h.loads.map((l) => l.ask({ type: 'expect', id, size }, 'armed', 10_000)));
  const before = await serverCpu(h.server);
  const t0 = clock();
  const reply = await h.server.command<{ sent: number; ms: number }>(
    `broadcast ${size} ${args.payload === 'json' ? 'text json' : 'binary'}`,
    60_000,
  );
  const rounds: RoundReport[] = await Promise.all(
    h.loads.map(async (l) => {
      try {
        for (;;) {
          const r = await l.next('done', 30_000);
          if (r.id === id) return r; // else a late one from an earlier, timed-out round
        }
      } catch {
        return l.ask({ type: 'report', id }, 'report', 5_000); // late: count what did arrive
      }
    }),
  );
  const after = await serverCpu(h.server);
  const last = Math.max(...rounds.map((r, i) => r.lastAt - h.loads[i]!.offset));
  const first = Math.min(...rounds.map((r, i) => r.firstAt - h.loads[i]!.offset));
  const deliveries = rounds.reduce((s, r) => s + r.deliveries, 0);
  return {
    kind: h.kind,
    n,
    size,
    ttlMs: deliveries === n ? last - t0 : NaN,
    firstMs: first - t0,
    sendMs: reply.ms,
    // user CPU is where framing happens; system CPU is mostly the one write(2) per connection every server pays
    cpuMs: (after.cpu - before.cpu - h.statsCpuUs) / 1000,
    userMs: (after.user - before.user) / 1000,
    deliveries,
    sent: reply.sent,
    badSize: rounds.reduce((s, r) => s + r.badSize, 0),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const notes: string[] = [];
  const samples: Sample[] = [];
  const servers: Record<
    string,
    { native: boolean; info: Record<string, unknown>; statsCpuUs: Record<number, number> }
  > = {};
  let id = 0;
  for (const n of NS) {
    const held: Held[] = [];
    try {
      for (const kind of KINDS) {
        status(`N=${n}: starting ${kind} and ${K} load processes`);
        const h = await hold(kind, n, notes);
        if (h === null) {
          status(notes.at(-1)!, true);
          continue;
        }
        held.push(h);
        servers[kind] = {
          native: h.native,
          info: h.info,
          statsCpuUs: { ...servers[kind]?.statsCpuUs, [n]: h.statsCpuUs },
        };
      }
      for (const size of SIZES) {
        for (let r = 0; r < WARMUP + M; r++) {
          for (let j = 0; j < held.length; j++) {
            const h = held[(j + r) % held.length]!; // rotate who goes first
            const s = await broadcastOnce(h, n, size, id++);
            if (r >= WARMUP) samples.push(s);
            status(
              `N=${n} ${formatBytes(size)} ${r < WARMUP ? 'warm-up' : `${r - WARMUP + 1}/${M}`} ${h.kind}: last delivery ${s.ttlMs.toFixed(2)} ms, cpu ${s.cpuMs.toFixed(2)} ms`,
            );
            await sleep(GAP_MS);
          }
        }
      }
    } finally {
      await Promise.all(
        held.flatMap((h) => h.loads.map((l) => l.ask({ type: 'quit' }, 'quitted', 30_000).catch(() => null))),
      );
      await Promise.all(held.flatMap((h) => [h.server.close(), ...h.loads.map((l) => l.stop(5_000))]));
    }
  }
  status('', false);

  const kinds = KINDS.filter((k) => k in servers);
  type Row = {
    kind: string;
    n: number;
    size: number;
    deliveriesPerSec: number;
    ttlP50Ms: number;
    ttlP90Ms: number;
    firstP50Ms: number;
    cpuMsPerBroadcast: number;
    userMsPerBroadcast: number;
    sendCallMs: number;
    ok: boolean;
    runs: number;
  };
  const rows: Row[] = [];
  for (const n of NS)
    for (const size of SIZES)
      for (const kind of kinds) {
        const mine = samples.filter((s) => s.kind === kind && s.n === n && s.size === size);
        const ttl = mine.map((s) => s.ttlMs);
        rows.push({
          kind,
          n,
          size,
          runs: mine.length,
          deliveriesPerSec: median(ttl.map((t) => n / (t / 1000))),
          ttlP50Ms: median(ttl),
          ttlP90Ms: percentile(ttl, 90),
          firstP50Ms: median(mine.map((s) => s.firstMs)),
          cpuMsPerBroadcast: median(mine.map((s) => s.cpuMs)),
          userMsPerBroadcast: median(mine.map((s) => s.userMs)),
          sendCallMs: median(mine.map((s) => s.sendMs)),
          ok: mine.every((s) => s.deliveries === n && s.sent === n && s.badSize === 0),
        });
      }
  const find = (kind: string, r: Row): Row | undefined =>
    rows.find((x) => x.kind === kind && x.n === r.n && x.size === r.size);
  const ratios = (r: Row, ref: string): { deliveries: number; cpu: number; user: number } | null => {
    const b = find(ref, r);
    return b === undefined
      ? null
      : {
          deliveries: r.deliveriesPerSec / b.deliveriesPerSec,
          cpu: b.cpuMsPerBroadcast / r.cpuMsPerBroadcast,
          user: b.userMsPerBroadcast / r.userMsPerBroadcast,
        };
  };
  console.log(
    `\nBroadcast: one binary message to all N connections, ${M} broadcasts per case after ${WARMUP} warm-up, medians; ${K} load processes per server.`,
  );
  console.log(
    'deliveries/s = N / time to last delivery. cpu = server user+system CPU per broadcast, user = its user part (framing, JS);',
  );
  console.log(
    'the rest is system time, mostly one write(2) per connection for every server (on loopback it includes the receiving',
  );
  console.log(
    "side's TCP work). The kernel samples the user/system split by tick: trust user ms only well above a few ms.",
  );
  console.log('send = time in the broadcast call (uWS publishes later, from its loop).');
  console.log(
    '÷ws deliveries: higher is better; ÷ws cpu: ws CPU / this CPU (higher = cheaper than ws). Same for ÷uws.\n',
  );
  printTable(
    [
      'N',
      'size',
      'server',
      'deliveries/s',
      'last p50 ms',
      'last p90 ms',
      'first p50 ms',
      'cpu ms',
      'user ms',
      'send ms',
      '÷ws deliv',
      '÷ws cpu',
      '÷ws user',
      '÷uws deliv',
      '÷uws cpu',
      'ok',
    ],
    rows.map((r) => {
      const w = ratios(r, 'ws'),
        u = ratios(r, 'uws');
      return [
        String(r.n),
        formatBytes(r.size),
        r.kind,
        r.deliveriesPerSec.toFixed(0),
        r.ttlP50Ms.toFixed(2),
        r.ttlP90Ms.toFixed(2),
        r.firstP50Ms.toFixed(2),
        r.cpuMsPerBroadcast.toFixed(2),
        r.userMsPerBroadcast.toFixed(2),
        r.sendCallMs.toFixed(2),
        w ? formatRatio(w.deliveries) : '-',
        w ? formatRatio(w.cpu) : '-',
        w ? formatRatio(w.user) : '-',
        u ? formatRatio(u.deliveries) : '-',
        u ? formatRatio(u.cpu) : '-',
        r.ok ? 'yes' : 'NO',
      ];
    }),
  );
  for (const note of notes) console.log(`\n${note}`);
  const allOk = rows.every((r) => r.ok);
  const written = writeResults(
    'broadcast',
    {
      config: {
        connections: NS,
        sizes: SIZES,
        broadcasts: M,
        warmup: WARMUP,
        gapMs: GAP_MS,
        loadProcesses: K,
        kinds,
        ws: packageVersion('ws'),
        uws: packageVersion('@trufflesuite/uws-js-unofficial'),
      },
      unit: 'deliveries/s; ms (medians over broadcasts)',
      method:
        'time to last delivery = latest delivery reported by the load processes − t0 just before the broadcast command is written to the server stdin; one clock (timeOrigin + now), per-process offset by IPC ping-pong. cpu = server process CPU between stats before and after the last delivery, minus a stats round alone.',
      servers,
      notes,
      allVerified: allOk,
      summary: rows.map((r) => ({ ...r, vsWs: ratios(r, 'ws'), vsUws: ratios(r, 'uws') })),
      samples,
      elapsedSec: (Date.now() - started) / 1000,
    },
    args,
  );
  console.log(
    `\n${allOk ? 'Every broadcast reached all N connections with the right size.' : 'SOME BROADCASTS WERE NOT FULLY DELIVERED.'} ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${written}`,
  );
  if (!allOk) process.exitCode = 1;
}

main().catch((error: unknown) => die('bench:broadcast failed', error));
