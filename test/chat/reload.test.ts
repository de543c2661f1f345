import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { browserMissing, launchBrowser } from '../support/browser.js';
import { until } from '../support/servers.js';

/**
 * The issue's "done when": the chat demo in headless Chromium keeps its pages
 * connected through a reload (SIGHUP to `lightws chat`, one process and
 * --workers 2): no "Connection closed.", and the lines sent during the
 * reload all arrive, in order.
 */
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const lines = (page: Page): Promise<string[]> =>
  page.$$eval('#log div', (divs: { textContent: string | null }[]) => divs.map((d) => d.textContent ?? ''));

describe('the chat demo in Chromium through a reload', { skip: browserMissing() }, () => {
  for (const workers of [1, 2]) {
    test(`SIGHUP to \`lightws chat${workers > 1 ? ` --workers ${workers}` : ''}\`: both pages stay connected; every line sent during the reload arrives, in order`, async (t) => {
      const child = spawn(
        process.execPath,
        [CLI, 'chat', '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', '--workers', String(workers)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const out: string[] = [];
      createInterface({ input: child.stdout }).on('line', (line) => void out.push(line));
      const pids = (): number[] =>
        out.flatMap((line) => [...line.matchAll(/handed over to pid (\d+)/g)].map((m) => Number(m[1])));
      t.after(() => {
        for (const pid of [child.pid, ...pids()])
          try {
            process.kill(pid!);
          } catch {
            // gone already
          }
      });
      await until(() => out.length > 0, 15000, 'the start-up line');
      const port = Number(/http:\/\/127\.0\.0\.1:(\d+)\//.exec(out[0]!)?.[1]);
      const browser = await launchBrowser();
      t.after(() => browser.close());
      const [alice, bob] = await Promise.all([browser.page(), browser.page()]);
      const errors: string[] = [];
      for (const page of [alice, bob]) page.on('pageerror', (error) => void errors.push(error.message));
      await alice.goto(`http://127.0.0.1:${port}/?nick=alice`);
      await alice.waitForSelector('body[data-state="open"]');
      await bob.goto(`http://127.0.0.1:${port}/?nick=bob`);
      await bob.waitForSelector('body[data-state="open"]');
      const said: string[] = [];
      let n = 0;
      const say = async (): Promise<void> => {
        const text = `line ${++n}`;
        said.push(`alice: ${text}`);
        await alice.fill('#msg', text);
        await alice.click('#send');
      };
      await say();
      child.kill('SIGHUP');
      // Lines go on while the connections move, until the reload says it is done.
      const done = (): boolean => out.some((line) => /^(handed over|reloaded:)/.test(line));
      while (!done()) {
        await say();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (let i = 0; i < 5; i++) await say();
      const report = out.find((line) => /^(handed over|reloaded:)/.test(line))!;
      assert.match(report, /moved 2, closed 1012 0/);
      const got = async (page: Page): Promise<string[]> =>
        (await lines(page)).filter((line) => line.startsWith('alice: '));
      const deadline = Date.now() + 10000;
      for (const page of [alice, bob])
        while ((await got(page)).length < said.length && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(await got(bob), said, 'bob got every line, once, in order');
      assert.deepEqual(await got(alice), said, 'alice too');
      for (const page of [alice, bob]) {
        assert.ok(!(await lines(page)).includes('Connection closed.'));
        assert.equal(await page.getAttribute('body', 'data-state'), 'open');
      }
      assert.deepEqual(errors, []);
    });
  }
});
