/**
 * RSS per idle wss:// connection (TLS 1.3, ECDSA P-256), measured from
 * outside: lightws on node:tls (`tls`) against lightws with the compact
 * record layer (`compact`, issue #23), in the same run, kinds interleaved.
 *
 *   node dist/bench/idle-tls.js [--steps 3000,6000] [--runs 3] [--settle-ms 3000] [--gc]
 *                               [--kinds tls,compact,ws,uws,bun] [--bun PATH]
 *
 * Kinds: `tls` and `compact` are lightws; `ws` is ws over node:https, `uws` uWebSockets.js
 * SSLApp (native, Node 20 only), `bun` Bun.serve with `tls` (servers/idle-tls-others.ts).
 *
 * Each run is a fresh server process and a fresh client process. At each
 * step the clients hold that many idle connections (all moved, for
 * compact); after --settle-ms the server's VmRSS is read from /proc (no GC
 * forced; with --gc, after full GCs in the server: what is retained, not
 * what is garbage yet). Per connection: the slope between the first and
 * the last step.
 * Prints each run and the medians.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findBun } from './lib/bun.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '3000,6000' },
    runs: { type: 'string', default: '3' },
    'settle-ms': { type: 'string', default: '3000' },
    gc: { type: 'boolean', default: false },
    kinds: { type: 'string', default: 'tls,compact' },
    bun: { type: 'string' },
  },
});
const STEPS = values.steps.split(',').map(Number);
const RUNS = Number(values.runs);
const SETTLE = Number(values['settle-ms']);
const KINDS = values.kinds.split(',');
const BUN = findBun(values.bun);
if (KINDS.includes('bun') && BUN === undefined) throw new Error('no Bun: pass --bun PATH (see bench/lib/bun.ts)');

const dir = mkdtempSync(join(tmpdir(), 'lightws-idle-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
  '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert,
], { stdio: 'ignore' }); // prettier-ignore

/** A child speaking lines: `ask` writes one and waits for the next line starting with `prefix`. */
function lines(child: ChildProcess): { ask(line: string | null, prefix: string): Promise<string> } {
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const i = waiting.findIndex((w) => line.startsWith(w.prefix));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(line);
  });
  return {
    ask(line, prefix) {
      return new Promise((resolve) => {
        waiting.push({ prefix, resolve });
        if (line !== null) child.stdin!.write(line + '\n');
      });
    },
  };
}

const rss = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(kind: string): Promise<number[]> {
  const flags = values.gc ? ['--expose-gc'] : [];
  const lightws = kind === 'tls' || kind === 'compact';
  const script = join(here, lightws ? 'servers/idle-tls-server.js' : 'servers/idle-tls-others.js');
  const server = spawn(
    kind === 'bun' ? BUN! : process.execPath,
    [...(lightws ? flags : []), script, '--kind', kind, '--cert', cert, '--key', key],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const s = lines(server);
  const port = Number((await s.ask(null, 'port ')).split(' ')[1]);
  const client = spawn(process.execPath, [join(here, 'load/idle-tls-clients.js'), '--port', String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const c = lines(client);
  const out: number[] = [];
  try {
    for (const n of STEPS) {
      const opened = await c.ask(`open ${n}`, 'o');
      if (opened !== `opened ${n}`) throw new Error(opened);
      for (;;) {
        const [, open, moved] = (await s.ask('count', 'count ')).split(' ').map(Number);
        if (open === n && (kind !== 'compact' || moved === n)) break;
        await sleep(100);
      }
      await sleep(SETTLE);
      if (values.gc) await s.ask('gc', 'count ');
      out.push(rss(server.pid!));
    }
  } finally {
    client.kill();
    server.kill();
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perConnection: Record<string, number[]> = Object.fromEntries(KINDS.map((kind) => [kind, []]));
for (let run = 1; run <= RUNS; run++) {
  for (const kind of KINDS) {
    const samples = await measure(kind);
    const slope = (samples.at(-1)! - samples[0]!) / (STEPS.at(-1)! - STEPS[0]!);
    perConnection[kind]!.push(slope);
    console.log(
      `run ${run} ${kind}: RSS ${samples.map((b) => (b / 2 ** 20).toFixed(1) + ' MiB').join(', ')} → ${Math.round(slope)} B/conn`,
    );
  }
}
for (const kind of KINDS)
  console.log(`median ${kind}: ${Math.round(median(perConnection[kind]!))} B per idle wss connection`);
rmSync(dir, { recursive: true, force: true });
