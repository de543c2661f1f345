/**
 * The long fuzz run: `npm run fuzz -- --frames 10000000 --seed 7 [--transport handle|socket]`.
 *
 *   --frames N        stop after N frames reached the server's parser (default 1,000,000)
 *   --cases N         ...or after N connections
 *   --minutes M       ...or after M minutes
 *   --seed N          the run's seed (default: random, printed)
 *   --transport T     handle (default) or socket
 *   --profile P       long (default: long frame streams) or ci (the test's short ones)
 *   --concurrency N   connections at once (default 64)
 *   --checkpoint N    check that the pool is back to zero every N frames (default 1,000,000)
 *   --case K          replay case K alone (repeatable), printing what was sent and what came back
 *   --json FILE       also write the summary as JSON
 *
 * Exits 1 when anything failed.
 */
import { writeFileSync } from 'node:fs';
import type { TransportName } from '../../src/index.js';
import {
  describeEnd,
  expectationOf,
  formatSummary,
  generateCase,
  makePools,
  runFuzz,
  type Profile,
} from './fuzz-core.js';

function parseArgs(argv: string[]): Map<string, string[]> {
  const args = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    args.set(name, [...(args.get(name) ?? []), value]);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const one = (name: string): string | undefined => args.get(name)?.at(-1);
const num = (name: string): number | undefined => {
  const v = one(name);
  if (v === undefined) return undefined;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, not ${v}`);
  return n;
};

const seed = num('seed') ?? Math.floor(Math.random() * 2 ** 31);
const transport = (one('transport') ?? 'handle') as TransportName;
if (transport !== 'handle' && transport !== 'socket') throw new Error('--transport must be handle or socket');
const profile = (one('profile') ?? 'long') as Profile;
if (profile !== 'long' && profile !== 'ci') throw new Error('--profile must be long or ci');
const only = args.get('case')?.map(Number);

if (only !== undefined) {
  // Replay: show each case, then run them one at a time.
  const pools = makePools(seed);
  for (const index of only) {
    const c = generateCase(seed, index, pools, profile);
    const e = expectationOf(c);
    console.log(
      `case ${index}: head ${c.headMutation} (${c.head.length} B${c.expectStatus === undefined ? '' : `, expect ${c.expectStatus}`}), body ${c.bodyKind} (${c.body.length} B, ${c.framesGenerated} frames), ` +
        `delivery ${c.delivery}${c.waitFor101 ? ' after the 101' : ''}, ending ${c.ending}${c.ending === 'reset' ? ` at byte ${c.resetAt} (${c.resetHard ? 'RST' : 'FIN'})` : ''}`,
    );
    console.log(
      `  model: head end ${e.headEnd}, ${e.full?.frames ?? 0} frames, ${e.full?.replies.length ?? 0} replies, then ${describeEnd(e.full?.end)}`,
    );
    console.log(`  head (latin1): ${JSON.stringify(c.head.toString('latin1').slice(0, 600))}`);
    console.log(`  body (hex, first 256 B): ${c.body.subarray(0, 256).toString('hex')}`);
  }
}

console.log(
  `lightws fuzz: seed ${seed}, transport ${transport}, profile ${profile}${only === undefined ? '' : `, cases ${only.join(',')}`}`,
);
const frames = num('frames');
const cases = num('cases');
const minutes = num('minutes');
const summary = await runFuzz({
  seed,
  transport,
  profile,
  frames: frames ?? (cases === undefined && minutes === undefined ? 1_000_000 : undefined),
  cases,
  durationMs: minutes === undefined ? undefined : minutes * 60_000,
  concurrency: num('concurrency') ?? 64,
  checkpointFrames: num('checkpoint') ?? 1_000_000,
  only,
  progressEveryMs: 10_000,
  progress: (p) => {
    const s = p.elapsedMs / 1000;
    console.log(
      `  ${s.toFixed(0).padStart(5)} s  ${p.frames.toLocaleString('en-US').padStart(12)} frames  ${p.cases.toLocaleString('en-US').padStart(8)} connections  ` +
        `${Math.round(p.frames / s)
          .toLocaleString('en-US')
          .padStart(8)} frames/s  ${(p.bytes / 1048576).toFixed(0).padStart(6)} MiB sent  failures ${p.failures}`,
    );
  },
});
console.log(formatSummary(summary));
const file = one('json');
if (file !== undefined) writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
process.exitCode = summary.failureCount === 0 && summary.crashed === null ? 0 : 1;
