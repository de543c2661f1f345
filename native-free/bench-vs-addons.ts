/**
 * The third piece of native-free evidence: our pure-TypeScript masking and
 * UTF-8 validation measured against the native addons ws can use
 * (bufferutil, utf-8-validate), each benchmark in its own process.
 *
 *   npm run native-free:bench [-- --publish]          (QUICK=1 for a rougher, faster run)
 *
 * The benchmarks themselves are bench/unmask.ts and bench/utf8.ts, and take the same arguments;
 * results in bench/out/{unmask,utf8}.json (with --publish: bench/results/, the figures
 * docs/benchmarks.md quotes).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const name of ['unmask', 'utf8']) {
  const script = fileURLToPath(new URL(`../bench/${name}.js`, import.meta.url));
  process.stdout.write(`\n== ${name}: pure TypeScript vs native addon ==\n`);
  execFileSync(process.execPath, [script, ...process.argv.slice(2)], { stdio: 'inherit' });
}
