import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { newSpaceBytes, PROBE_ON_SIGNAL, SMALL_YOUNG_GENERATION } from '../support/young-generation-probe.js';

// dist/test/cli → dist/src/cli/main.js
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Starts `node FLAGS --import PROBE lightws echo`, waits for it to listen, and asks the probe how big the young generation grows. */
async function cliYoungGeneration(t: { after(fn: () => unknown): void }, nodeFlags: string[]): Promise<number> {
  const child = spawn(
    process.execPath,
    [...nodeFlags, '--import', PROBE_ON_SIGNAL, CLI, 'echo', '--port', '0', '--host', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', () => resolve());
    void exited.then(() => reject(new Error(`lightws exited before listening: ${stderr}`)));
  });
  child.kill('SIGUSR2');
  const deadline = Date.now() + 60_000;
  while (newSpaceBytes(stderr) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const bytes = newSpaceBytes(stderr);
  assert.ok(bytes !== undefined, `no answer from the probe: ${stderr}`);
  return bytes;
}

test("`lightws echo` runs with a young generation held at V8's starting size, as a cluster worker does", async (t) => {
  const bytes = await cliYoungGeneration(t, []);
  assert.ok(bytes <= SMALL_YOUNG_GENERATION, `young generation ${bytes} B`);
});

test("`lightws echo` leaves the young generation to node's own flags when they size it", async (t) => {
  // The control for the test above: the probe's garbage grows a young generation that may grow.
  const bytes = await cliYoungGeneration(t, ['--max-semi-space-size=8']);
  assert.ok(bytes > SMALL_YOUNG_GENERATION, `young generation ${bytes} B`);
});
