import { setFlagsFromString } from 'node:v8';

/**
 * A flag that sizes V8's young generation (its semi-spaces) or how it grows:
 * given by the user, it is theirs, and lightws leaves the young generation alone.
 */
const SIZING = /^--(?:(?:max|min)[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)(?:=|$)/;

/** Do these Node flags size V8's young generation? */
export function sizesYoungGeneration(flags: readonly string[]): boolean {
  return flags.some((flag) => SIZING.test(flag));
}

/**
 * Keeps V8's young generation at its starting size (1 MiB per semi-space),
 * the density a cluster worker gets from `--max-semi-space-size=1`, from
 * inside a running process. Left alone, V8 doubles the semi-spaces under the
 * handshakes' garbage up to 16 MiB each (32 on Node 24+) and keeps them
 * resident: ~32–64 MiB that an idle server's RSS carries, ~0.3–0.6 KB per
 * connection at 12k–20k (docs/benchmarks.md).
 *
 * `--max-semi-space-size` is read once, when V8 sets its heap up, so setting
 * it now does nothing; the growth factor is read at each growth, so setting it
 * to 1 (grow by ×1) holds the young generation where it is. Call it early,
 * before heavy allocation has grown it. Scavenges come more often (a smaller
 * space fills sooner); bench:echo shows what that costs.
 *
 * Does nothing, and returns false, when the process's own flags
 * (`process.execArgv` or `NODE_OPTIONS`) size the young generation.
 */
export function limitYoungGeneration(): boolean {
  const options = (process.env['NODE_OPTIONS'] ?? '').split(/\s+/);
  if (sizesYoungGeneration(process.execArgv) || sizesYoungGeneration(options)) return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
