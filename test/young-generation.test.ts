import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sizesYoungGeneration } from '../src/young-generation.js';
import { newSpaceBytes, PROBE_NOW, SMALL_YOUNG_GENERATION } from './support/young-generation-probe.js';

const run = promisify(execFile);
const INDEX = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** A fresh Node process: optionally calls limitYoungGeneration() (printing what it returned), then the probe. */
async function youngGeneration(
  call: boolean,
  nodeFlags: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ bytes: number; returned: string }> {
  const script = [
    `import { getHeapSpaceStatistics } from 'node:v8';`,
    `import { limitYoungGeneration } from ${JSON.stringify(INDEX)};`,
    call ? `process.stderr.write('returned ' + limitYoungGeneration() + '\\n');` : '',
    PROBE_NOW,
  ].join('\n');
  const { stderr } = await run(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    timeout: 60_000,
  });
  const bytes = newSpaceBytes(stderr);
  assert.ok(bytes !== undefined, stderr);
  return { bytes, returned: /returned (\w+)/.exec(stderr)?.[1] ?? 'not called' };
}

test('limitYoungGeneration() holds the young generation at its starting size under garbage; without it V8 grows it', async () => {
  const limited = await youngGeneration(true);
  assert.equal(limited.returned, 'true');
  assert.ok(limited.bytes <= SMALL_YOUNG_GENERATION, `limited: ${limited.bytes} B`);
  // The same garbage in a process left alone: the probe does grow it, so the check above can fail.
  const alone = await youngGeneration(false);
  assert.ok(alone.bytes > SMALL_YOUNG_GENERATION, `left alone: ${alone.bytes} B`);
});

test("limitYoungGeneration() leaves a young generation the process's own flags size (execArgv or NODE_OPTIONS)", async () => {
  // --max-semi-space-size=8: up to 8 MiB per semi-space, which the garbage reaches.
  const flagged = await youngGeneration(true, ['--max-semi-space-size=8']);
  assert.equal(flagged.returned, 'false');
  assert.ok(flagged.bytes > SMALL_YOUNG_GENERATION, `--max-semi-space-size=8: ${flagged.bytes} B`);
  const viaEnv = await youngGeneration(true, [], { NODE_OPTIONS: '--max-semi-space-size=8' });
  assert.equal(viaEnv.returned, 'false');
  assert.ok(viaEnv.bytes > SMALL_YOUNG_GENERATION, `NODE_OPTIONS: ${viaEnv.bytes} B`);
});

test('sizesYoungGeneration: the flags that size the young generation, in either spelling', () => {
  for (const flag of [
    '--max-semi-space-size=1',
    '--max_semi_space_size',
    '--min-semi-space-size=2',
    '--semi-space-growth-factor=4',
    '--semi_space_growth_factor=1',
  ])
    assert.equal(sizesYoungGeneration(['--expose-gc', flag]), true, flag);
  for (const flags of [[], ['--max-old-space-size=4096'], ['--max-semi-space-sizes'], ['']])
    assert.equal(sizesYoungGeneration(flags), false, flags.join(' '));
});
