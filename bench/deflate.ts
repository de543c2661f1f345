/**
 * permessage-deflate (RFC 7692): lightws `shared` and `window` against ws (perMessageDeflate on),
 * uWebSockets.js (SHARED_COMPRESSOR) and Bun (`Bun.serve` with its shared compressor, when Bun is
 * found: lib/bun.ts), in the same run, on what a browser offers
 * (`permessage-deflate; client_max_window_bits`).
 *
 *   npm run bench:deflate -- [--parts threshold,window,idle,echo,broadcast,churn] [--runs 3]
 *        [--idle-connections 19900] [--sizes 200,2048,16384] [--seconds 4] [--warmup 2]
 *        [--broadcast-connections 10000] [--broadcasts 20] [--minutes 10] [--churn-rate 20]
 *
 * - threshold: in process, what the shared compressor costs and saves per message of each size.
 * - window: in process, what a server's copy of each `window` connection's inflate window (what a
 *   handover carries) costs: µs per inflated message of each --sizes with and without it (windows
 *   of 12 bits, the default), and bytes per session after one message (ArrayBuffer bytes always;
 *   heap and RSS too when run with node --expose-gc).
 * - idle: bench:idle (its machinery, its own processes) with every client offering deflate:
 *   memory per idle connection with the extension negotiated, against the same servers without it.
 * - echo: 100 connections flat out (4 in flight each), realistic JSON of each --sizes: messages per
 *   server CPU-second and bytes on the wire per echo (server → client, frame headers included).
 * - broadcast: bench:broadcast with a --broadcast-size JSON text message to --broadcast-connections
 *   deflate clients: server CPU per broadcast.
 * - churn: all servers at once, each with a load opening --churn-rate connections/s that each echo
 *   --churn-messages JSON messages and close, for --minutes; server RSS sampled every 10 s. The
 *   question: does RSS after the last minute stay within 10 % of RSS after the first (no growth
 *   from fragmentation), for lightws and for ws.
 *
 * Results: bench/out/deflate.json (--publish: bench/results/), with each part's own results
 * (idle.json, broadcast.json of those runs) kept under bench/out/deflate-parts/.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { findBun } from './lib/bun.js';
import { DeflateEngine } from '../src/compression/deflate-engine.js';
import { CodecOutput } from '../src/compression/message-codec.js';
import { BufferPool } from '../src/pool/buffer-pool.js';
import { IpcChild, runScript } from './lib/children.js';
import { jsonPayload } from './lib/json-payload.js';
import { windowPart } from './lib/deflate-window.js';
import { formatRatio, printTable } from './lib/format.js';
import { packageVersion, resultsDir, RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { median, pairedRatio } from './lib/stats.js';
import { die, status } from './lib/status.js';
import { sleep } from './lib/time.js';
import type { ChurnCommand, ChurnReport } from './load/churn-clients.js';
import { sourceBlock } from './load/sources.js';
import { runRound } from './load/window.js';
import { probeUws, ProtocolServer, SERVERS } from './servers/launch.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    parts: { type: 'string', default: 'threshold,window,idle,echo,broadcast,churn' },
    runs: { type: 'string', default: '3' },
    'idle-connections': { type: 'string', default: '19900' },
    sizes: { type: 'string', default: '200,2048,16384' },
    seconds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    load: { type: 'string', default: '2' },
    'broadcast-connections': { type: 'string', default: '10000' },
    'broadcast-size': { type: 'string', default: '4096' },
    broadcasts: { type: 'string', default: '20' },
    minutes: { type: 'string', default: '10' },
    'churn-rate': { type: 'string', default: '20' },
    'churn-messages': { type: 'string', default: '20' },
  },
});
const PARTS = args.parts.split(',');
const RUNS = Number(args.runs);
const BUN = findBun() !== undefined;
if (!BUN) process.stderr.write('Bun SKIPPED: not found ($BUN, or the cache lib/bun.ts names)\n');
const DEFLATE_KINDS = ['handle-shared', 'handle-window', 'ws-deflate', 'uws-shared', ...(BUN ? ['bun-deflate'] : [])];
const partsDir = join(resultsDir({ out: undefined }), 'deflate-parts');

/** Runs another benchmark of this folder as a child (its own orchestration), its results into partsDir. */
async function runBench(script: string, argv: string[], nodeArgs: string[] = []): Promise<Record<string, unknown>> {
  const code = await runScript(join(here, `${script}.js`), [...argv, '--out', partsDir], nodeArgs);
  if (code !== 0) throw new Error(`${script} exited ${code}`);
  return JSON.parse(readFileSync(join(partsDir, `${script}.json`), 'utf8')) as Record<string, unknown>;
}

async function idlePart(): Promise<unknown> {
  const kinds = [
    'handle',
    'handle-shared',
    'handle-window',
    'ws',
    'ws-deflate',
    'uws',
    'uws-shared',
    ...(BUN ? ['bun', 'bun-deflate'] : []),
  ];
  const result = await runBench(
    'idle',
    ['--offer-deflate', '--kinds', kinds.join(','), '--connections', args['idle-connections'], '--runs', String(RUNS)],
    ['--expose-gc'],
  );
  const summary = result['summary'] as Record<
    string,
    { rssPerConn: number; rssNoYoungPerConn: number; heapPerConn: number }
  >;
  console.log(
    `\nIdle memory per connection, ${args['idle-connections']} connections, every client offering permessage-deflate; medians of ${RUNS} runs (bench:idle).`,
  );
  const pairs: [string, string][] = [
    ['handle', 'handle-shared'],
    ['handle', 'handle-window'],
    ['ws', 'ws-deflate'],
    ['uws', 'uws-shared'],
    ['bun', 'bun-deflate'],
  ];
  printTable(
    [
      'server',
      'RSS B/conn off',
      'RSS B/conn deflate',
      'RSS−young off',
      'RSS−young deflate',
      'heap off',
      'heap deflate',
      'heap Δ',
    ],
    pairs
      .filter(([a, b]) => summary[a] && summary[b])
      .map(([off, on]) => {
        const a = summary[off]!,
          b = summary[on]!;
        return [
          on,
          a.rssPerConn.toFixed(0),
          b.rssPerConn.toFixed(0),
          a.rssNoYoungPerConn.toFixed(0),
          b.rssNoYoungPerConn.toFixed(0),
          a.heapPerConn.toFixed(0),
          b.heapPerConn.toFixed(0),
          (b.heapPerConn - a.heapPerConn).toFixed(0),
        ];
      }),
  );
  return { summary, allVerified: result['allVerified'] };
}

interface EchoRound {
  kind: string;
  size: number;
  run: number;
  msgsPerSec: number;
  msgsPerServerCpuSec: number;
  wireBytesPerMsg: number;
  deflated: number;
  serverCores: number;
  ok: boolean;
}

async function echoPart(kinds: string[]): Promise<unknown> {
  const sizes = args.sizes.split(',').map(Number);
  const K = Number(args.load);
  const rounds: EchoRound[] = [];
  let index = 0;
  for (let run = 1; run <= RUNS; run++) {
    const order = kinds.map((_, i) => kinds[(i + run - 1) % kinds.length]!);
    for (const size of sizes)
      for (const kind of order) {
        const label = `echo ${size} B ${SERVERS[kind]!.label} run ${run}/${RUNS}`;
        const w = await runRound({
          kind,
          label,
          nodeArgs: [],
          script: join(here, 'load', 'echo-clients.js'),
          loads: K,
          connections: 100,
          argv: (port, i) => [
            '--port',
            String(port),
            '--connections',
            String(100 / K),
            '--source',
            sourceBlock(index * K + i),
            '--mode',
            'flat',
            '--window',
            '4',
            '--payload-json',
            String(size),
            '--deflate',
          ],
          warmupSec: Number(args.warmup),
          seconds: Number(args.seconds),
          statsAtMark: true,
        });
        index++;
        const sum = (key: string): number => w.reports.reduce((a, r) => a + (r.extra[key] ?? 0), 0);
        const count = w.reports.reduce((a, r) => a + r.count, 0);
        const bad = w.stopped.reduce((a, r) => a + (r.extra['badLength'] ?? 0) + (r.extra['closedEarly'] ?? 0), 0);
        const r: EchoRound = {
          kind,
          size,
          run,
          msgsPerSec: w.perSec,
          msgsPerServerCpuSec: w.perSec / w.serverCores,
          wireBytesPerMsg: sum('bytesIn') / count,
          deflated: sum('deflated'),
          serverCores: w.serverCores,
          ok: bad === 0 && sum('deflated') === 100,
        };
        status(
          `${label}: ${r.msgsPerSec.toFixed(0)} msgs/s, ${r.msgsPerServerCpuSec.toFixed(0)} msgs/CPU-s, ${r.wireBytesPerMsg.toFixed(0)} B/msg on the wire${r.ok ? '' : ' VERIFY FAILED'}`,
          true,
        );
        rounds.push(r);
      }
  }
  console.log(
    `\nEcho of realistic JSON, 100 connections × 4 in flight, deflate offered as a browser does; ${RUNS} runs × ${args.seconds} s, medians; ratios paired run by run.`,
  );
  const rows: (string | number)[][] = [];
  const summary: Record<string, Record<string, unknown>> = {};
  for (const size of sizes) {
    const mine = rounds.filter((r) => r.size === size);
    for (const kind of kinds) {
      const k = mine.filter((r) => r.kind === kind);
      const s = {
        msgsPerSec: median(k.map((r) => r.msgsPerSec)),
        msgsPerServerCpuSec: median(k.map((r) => r.msgsPerServerCpuSec)),
        wireBytesPerMsg: median(k.map((r) => r.wireBytesPerMsg)),
        vsWs: pairedRatio(mine, kind, 'ws-deflate', (r) => r.msgsPerServerCpuSec),
        vsUws: pairedRatio(mine, kind, 'uws-shared', (r) => r.msgsPerServerCpuSec),
        vsBun: pairedRatio(mine, kind, 'bun-deflate', (r) => r.msgsPerServerCpuSec),
        ok: k.every((r) => r.ok),
      };
      (summary[size] ??= {})[kind] = s;
      rows.push([
        size,
        SERVERS[kind]!.label,
        s.msgsPerSec.toFixed(0),
        s.msgsPerServerCpuSec.toFixed(0),
        formatRatio(s.vsWs),
        formatRatio(s.vsUws),
        formatRatio(s.vsBun),
        s.wireBytesPerMsg.toFixed(0),
        `${((100 * s.wireBytesPerMsg) / size).toFixed(0)} %`,
        s.ok ? 'ok' : 'FAILED',
      ]);
    }
  }
  printTable(
    ['JSON B', 'server', 'msgs/s', 'msgs/CPU-s', '×ws', '×uWS', '×Bun', 'wire B/msg', 'of size', 'verified'],
    rows,
  );
  return { summary, rounds };
}

async function broadcastPart(kinds: string[]): Promise<unknown> {
  const result = await runBench('broadcast', [
    '--connections',
    args['broadcast-connections'],
    '--sizes',
    args['broadcast-size'],
    '--payload',
    'json',
    '--offer-deflate',
    '--kinds',
    kinds.join(','),
    '--broadcasts',
    args.broadcasts,
  ]);
  const rows = result['summary'] as {
    kind: string;
    cpuMsPerBroadcast: number;
    deliveriesPerSec: number;
    ttlP50Ms: number;
    ok: boolean;
  }[];
  const ws = rows.find((r) => r.kind === 'ws-deflate');
  console.log(
    `\nBroadcast of ${args['broadcast-size']} B of JSON to ${args['broadcast-connections']} deflate connections (bench:broadcast): server CPU per broadcast, medians of ${args.broadcasts}.`,
  );
  printTable(
    ['server', 'cpu ms/broadcast', 'ws ÷ this', 'deliveries/s', 'last p50 ms', 'ok'],
    rows.map((r) => [
      r.kind,
      r.cpuMsPerBroadcast.toFixed(2),
      ws ? formatRatio(ws.cpuMsPerBroadcast / r.cpuMsPerBroadcast) : '-',
      r.deliveriesPerSec.toFixed(0),
      r.ttlP50Ms.toFixed(1),
      r.ok ? 'ok' : 'FAILED',
    ]),
  );
  return { summary: rows };
}

async function churnPart(kinds: string[]): Promise<unknown> {
  const minutes = Number(args.minutes);
  type Held = {
    kind: string;
    server: ProtocolServer;
    load: IpcChild<ChurnCommand, ChurnReport>;
    samples: { t: number; rss: number; open: number }[];
  };
  const held: Held[] = [];
  try {
    let i = 0;
    for (const kind of kinds) {
      const server = new ProtocolServer(kind, 'echo');
      const { port } = await server.ready();
      const load = new IpcChild<ChurnCommand, ChurnReport>(`churn ${kind}`, join(here, 'load', 'churn-clients.js'), [
        '--port',
        String(port),
        '--source',
        sourceBlock(200 + i++),
        '--rate',
        args['churn-rate'],
        '--messages',
        args['churn-messages'],
        '--size',
        '2048',
      ]);
      await load.next('ready', 15_000);
      held.push({ kind, server, load, samples: [] });
    }
    await Promise.all(held.map((h) => h.load.ask({ type: 'start' }, 'started', 10_000)));
    const t0 = performance.now();
    for (let t = 10; t <= minutes * 60; t += 10) {
      await sleep(Math.max(0, t0 + t * 1000 - performance.now()));
      for (const h of held) {
        const s = await h.server.stats();
        h.samples.push({ t, rss: s.rss, open: s.connections });
      }
      status(
        `churn ${t} s / ${minutes * 60}: ${held.map((h) => `${h.kind} ${(h.samples.at(-1)!.rss / 2 ** 20).toFixed(1)} MiB (${h.samples.at(-1)!.open} open)`).join(', ')}`,
        t % 60 === 0,
      );
    }
    const reports = await Promise.all(held.map((h) => h.load.ask({ type: 'report' }, 'report', 10_000)));
    const rows = held.map((h, j) => {
      const first = h.samples.find((s) => s.t === 60) ?? h.samples[0]!;
      const last = h.samples.at(-1)!;
      return {
        kind: h.kind,
        rssAfterFirstMinute: first.rss,
        rssAtEnd: last.rss,
        growth: last.rss / first.rss - 1,
        peak: Math.max(...h.samples.map((s) => s.rss)),
        samples: h.samples,
        load: reports[j]!,
      }; // one report per held server
    });
    console.log(
      `\nChurn, ${minutes} min, ${args['churn-rate']} connections/s per server, each echoing ${args['churn-messages']} × 2 KiB JSON then closing; all servers at once.`,
    );
    printTable(
      ['server', 'RSS @1 min', 'RSS @end', 'growth', 'peak', 'connections', 'messages', 'failed'],
      rows.map((r) => [
        r.kind,
        (r.rssAfterFirstMinute / 2 ** 20).toFixed(1),
        (r.rssAtEnd / 2 ** 20).toFixed(1),
        `${(100 * r.growth).toFixed(1)} %`,
        (r.peak / 2 ** 20).toFixed(1),
        r.load.opened,
        r.load.messages,
        r.load.failed,
      ]),
    );
    return { minutes, rate: Number(args['churn-rate']), messagesPerConnection: Number(args['churn-messages']), rows };
  } finally {
    await Promise.all(held.map((h) => h.load.ask({ type: 'stop' }, 'stopped', 20_000).catch(() => null)));
    await Promise.all(held.map((h) => Promise.all([h.server.close(), h.load.stop(5_000)])));
  }
}

/**
 * Where compressing starts to pay: for JSON of each size, what lightws's shared compressor costs
 * per message (µs, in process, the same code path as a send) and what it saves on the wire.
 */
function thresholdPart(): unknown {
  const engine = new DeflateEngine({
    mode: 'shared',
    windowBits: 15,
    memLevel: 8,
    level: 6,
    maxBytes: 0,
    maxMessageSize: 1 << 24,
    keepReceiveWindow: false,
  });
  const pool = new BufferPool({});
  const out = new CodecOutput();
  const rows = [64, 128, 256, 512, 768, 1024, 1536, 2048, 4096, 16384].map((size) => {
    const inputs = Array.from({ length: 256 }, (_, i) => Buffer.from(jsonPayload(size, i + 1)));
    let packed = 0;
    const rounds = Math.max(200, Math.floor(4_000_000 / size));
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) {
      const input = inputs[i & 255]!;
      engine.deflate(null, 15, input, 0, input.length, pool, out);
      packed += out.length;
      pool.release(out.buf!);
    }
    const us = ((performance.now() - t0) * 1000) / rounds;
    return {
      size,
      usPerMessage: us,
      ratio: packed / rounds / size,
      savedBytes: size - packed / rounds,
      savedBytesPerUs: (size - packed / rounds) / us,
    };
  });
  engine.close();
  console.log('\nWhere compression pays: lightws shared compressor (level 6, memLevel 8), realistic JSON, in process.');
  printTable(
    ['JSON B', 'µs/message', 'compressed', 'saved B', 'saved B per µs'],
    rows.map((r) => [
      r.size,
      r.usPerMessage.toFixed(1),
      `${(100 * r.ratio).toFixed(0)} %`,
      r.savedBytes.toFixed(0),
      r.savedBytesPerUs.toFixed(0),
    ]),
  );
  return { rows };
}

async function main(): Promise<void> {
  const started = Date.now();
  const uws = await probeUws();
  status(uws.note, true);
  const kinds = DEFLATE_KINDS.filter((k) => uws.native || k !== 'uws-shared');
  const results: Record<string, unknown> = {};
  if (PARTS.includes('threshold')) results['threshold'] = thresholdPart();
  if (PARTS.includes('window')) results['window'] = windowPart(args.sizes.split(',').map(Number));
  if (PARTS.includes('idle')) results['idle'] = await idlePart();
  if (PARTS.includes('echo')) results['echo'] = await echoPart(kinds);
  if (PARTS.includes('broadcast')) results['broadcast'] = await broadcastPart(kinds);
  if (PARTS.includes('churn')) results['churn'] = await churnPart(['handle-shared', 'handle-window', 'ws-deflate']);
  const written = writeResults(
    'deflate',
    {
      config: {
        ...args,
        ws: packageVersion('ws'),
        uws: packageVersion('@trufflesuite/uws-js-unofficial'),
        offer: 'permessage-deflate; client_max_window_bits',
      },
      uws,
      ...results,
      elapsedSec: (Date.now() - started) / 1000,
    },
    args,
  );
  console.log(`\n${((Date.now() - started) / 1000).toFixed(0)} s; results in ${written}`);
}

main().catch((error: unknown) => die('bench:deflate', error));
