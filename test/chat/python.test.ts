import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createChatServer } from '../../src/chat/chat-server.js';
import { browserMissing, launchBrowser } from '../support/browser.js';

/**
 * A client nobody here wrote: Python's `websockets` (Debian's
 * python3-websockets, run by /usr/bin/python3) joins the same room as a
 * browser page, hears what the page says, answers, and the page hears it.
 */

const PYTHON = '/usr/bin/python3';
const CLIENT = `
import asyncio, sys
import websockets

async def main(url):
    async with websockets.connect(url) as ws:
        print("open", flush=True)
        async for message in ws:
            print(message, flush=True)
            if message.startswith("page: "):
                await ws.send("hello from python, I read: " + message[len("page: "):])
            elif message.startswith("py: "):
                return

asyncio.run(main(sys.argv[1]))
`;

function pythonMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `no Python websockets at ${PYTHON} (apt-get install python3-websockets)`;
}

// The skip is the test's, not the suite's: a skipped suite's tests are not counted in the summary.
describe('the chat with a Python client', () => {
  test(
    'Python websockets and a browser page in one room hear each other',
    { skip: pythonMissing() ?? browserMissing() },
    async (t) => {
      const server = createChatServer({ logLevel: 'silent' });
      t.after(() => server.close({ timeoutMs: 500 }));
      const { port } = await server.listen(0, '127.0.0.1');
      const python = spawn(PYTHON, ['-c', CLIENT, `ws://127.0.0.1:${port}/ws?room=interop&nick=py`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      t.after(() => {
        if (python.exitCode === null) python.kill();
      });
      let stderr = '';
      python.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
      const heard: string[] = [];
      const exited = new Promise<number | null>((resolve) => python.once('exit', (code) => resolve(code)));
      const opened = new Promise<void>((resolve) => {
        createInterface({ input: python.stdout }).on('line', (line) => {
          heard.push(line);
          if (line === 'open') resolve();
        });
      });
      await Promise.race([
        opened,
        exited.then((code) => {
          throw new Error(`python exited (${code}) before it connected: ${stderr}`);
        }),
      ]);

      const browser = await launchBrowser();
      t.after(() => browser.close());
      const page = await browser.page();
      await page.goto(`http://127.0.0.1:${port}/?room=interop&nick=page`);
      await page.waitForSelector('body[data-state="open"]');
      await page.fill('#msg', 'hi, whoever speaks Python');
      await page.click('#send');
      assert.equal(await exited, 0, stderr);
      assert.deepEqual(heard, [
        'open',
        '* page joined',
        'page: hi, whoever speaks Python',
        'py: hello from python, I read: hi, whoever speaks Python',
      ]);
      const deadline = Date.now() + 5000;
      let log: (string | null)[] = [];
      while (!log.includes('* py left') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        log = await page.$$eval('#log div', (divs: { textContent: string | null }[]) => divs.map((d) => d.textContent));
      }
      assert.ok(log.includes('py: hello from python, I read: hi, whoever speaks Python'), 'the page heard Python');
      assert.ok(log.includes('* py left'), 'and saw it leave');
    },
  );
});
