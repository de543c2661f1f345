import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createChatServer } from '../../src/chat/chat-server.js';
import { browserMissing, launchBrowser } from '../support/browser.js';
import { TRANSPORTS } from '../support/servers.js';

/**
 * The chat demo in a real browser (headless Chromium): two pages chat, 100
 * hits of /benchmark reach both, and the page says so when the server goes.
 * LIGHTWS_SCREENSHOT=docs/chat-demo.png writes the README's screenshot
 * (from the first transport's run); otherwise it goes to a temporary file.
 */

const lines = (page: Page): Promise<string[]> =>
  page.$$eval('#log div', (divs: { textContent: string | null }[]) => divs.map((d) => d.textContent ?? ''));

async function waitForLines(
  page: Page,
  check: (lines: string[]) => boolean,
  what: string,
  ms = 10_000,
): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = await lines(page);
    if (check(now)) return now;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; the page shows ${JSON.stringify(now.slice(-5))}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#msg', text);
  await page.click('#send');
}

// The skip is the test's, not the suite's: a skipped suite's tests are not counted in the summary.
describe('the chat demo in Chromium', () => {
  test(
    'two pages chat in order; /benchmark ×100 reaches both; "Connection closed." when the server stops',
    { skip: browserMissing() },
    async (t) => {
      const browser = await launchBrowser();
      t.after(() => browser.close());
      const scratch = mkdtempSync(join(tmpdir(), 'lightws-chat-shot-'));
      t.after(() => rmSync(scratch, { recursive: true, force: true }));
      for (const [i, transport] of TRANSPORTS.entries()) {
        const server = createChatServer({ transport, logLevel: 'silent' });
        t.after(() => server.close({ timeoutMs: 500 }));
        const { port } = await server.listen(0, '127.0.0.1');
        const base = `http://127.0.0.1:${port}`;
        const [alice, bob] = await Promise.all([browser.page(), browser.page()]);
        await alice.setViewportSize({ width: 760, height: 420 });
        const errors: string[] = [];
        for (const page of [alice, bob]) page.on('pageerror', (error) => void errors.push(error.message));
        await alice.goto(`${base}/?nick=alice`);
        await alice.waitForSelector('body[data-state="open"]');
        await bob.goto(`${base}/?nick=bob`);
        await bob.waitForSelector('body[data-state="open"]');
        await waitForLines(alice, (l) => l.includes('* bob joined'), 'alice to see bob join');

        await say(alice, 'Hello Bob, this is lightws on one port.');
        await waitForLines(
          bob,
          (l) => l.includes('alice: Hello Bob, this is lightws on one port.'),
          "bob to get alice's message",
        );
        await say(bob, 'Hi Alice! Page, WebSocket and /metrics, no CDN.');
        const said = (l: string[]): string[] =>
          l.filter((line) => line.startsWith('alice: ') || line.startsWith('bob: '));
        const expected = [
          'alice: Hello Bob, this is lightws on one port.',
          'bob: Hi Alice! Page, WebSocket and /metrics, no CDN.',
        ];
        for (const page of [alice, bob]) await waitForLines(page, (l) => said(l).length === 2, 'both messages');
        assert.deepEqual(said(await lines(alice)), expected, 'alice sees both, in order');
        assert.deepEqual(said(await lines(bob)), expected, 'bob sees both, in order');

        for (let n = 0; n < 100; n++) {
          const response = await fetch(`${base}/benchmark`);
          assert.equal(response.status, 200);
          await response.text();
        }
        const tests = (l: string[]): number => l.filter((line) => line === 'test message').length;
        for (const page of [alice, bob]) await waitForLines(page, (l) => tests(l) === 100, '100 test messages');

        if (i === 0) {
          // The README's picture: the conversation, then a few of the benchmark's lines below it.
          await alice.$eval('#log', (log: { scrollTop: number }) => {
            log.scrollTop = 0;
          });
          const shot = process.env.LIGHTWS_SCREENSHOT ?? join(scratch, 'chat-demo.png');
          await alice.screenshot({ path: shot });
          assert.deepEqual([...readFileSync(shot).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
        }

        await server.close({ timeoutMs: 2000 });
        for (const page of [alice, bob]) {
          await waitForLines(page, (l) => l.at(-1) === 'Connection closed.', '"Connection closed."');
          await page.waitForSelector('body[data-state="closed"]');
        }
        assert.deepEqual(errors, [], 'no script errors on the page');
        await Promise.all([alice.close(), bob.close()]);
      }
    },
  );
});
