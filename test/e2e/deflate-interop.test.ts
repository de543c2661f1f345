import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { browserMissing, launchBrowser, type Browser } from '../support/browser.js';
import { chatJson } from '../support/deflate.js';
import { echo, start, TRANSPORTS, type Started } from '../support/servers.js';

const run = promisify(execFile);
const MODES = ['shared', 'window'] as const;
const BIG = chatJson(100 * 1024);
const PYTHON = '/usr/bin/python3';

/** Node's WebSocket (undici; Node 20 needs --experimental-websocket): sends BIG, reports what came back. */
const NODE_CLIENT = `
const ws = new WebSocket(process.argv[1]);
const big = process.argv[2];
ws.onopen = () => ws.send(big);
ws.onmessage = (e) => { console.log(JSON.stringify({ extensions: ws.extensions, same: e.data === big, length: e.data.length })); ws.close(1000); };
ws.onerror = (e) => console.log(JSON.stringify({ error: String(e.message ?? e) }));
`;

/** Python's websockets (Debian python3-websockets), which offers permessage-deflate by default. */
const PYTHON_CLIENT = `
import asyncio, json, sys, websockets
async def main(url):
    big = sys.stdin.read()
    async with websockets.connect(url, max_size=2 ** 24) as ws:
        await ws.send(big)
        back = await ws.recv()
        print(json.dumps({'extensions': ws.response_headers.get('Sec-WebSocket-Extensions'), 'same': back == big, 'length': len(back)}))
asyncio.run(main(sys.argv[1]))
`;

function pythonMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import websockets'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `no Python websockets at ${PYTHON} (apt-get install python3-websockets)`;
}

async function python(url: string): Promise<{ extensions: string; same: boolean; length: number }> {
  const child = execFile(PYTHON, ['-c', PYTHON_CLIENT, url], { timeout: 30_000 });
  child.stdin!.end(BIG);
  let out = '';
  child.stdout!.on('data', (chunk: string) => (out += chunk));
  const [code] = await Promise.all([new Promise<number | null>((resolve) => child.on('close', resolve))]);
  assert.equal(code, 0, `python exited ${code}`);
  return JSON.parse(out) as { extensions: string; same: boolean; length: number };
}

for (const transport of TRANSPORTS) {
  for (const mode of MODES) {
    describe(`permessage-deflate interop over ${transport}, mode ${mode}`, () => {
      let s: Started;
      before(async () => {
        s = await start(transport, { ...echo, deflate: mode, checkOrigin: ['*'] });
      });
      after(async () => {
        await s.server.close({ timeoutMs: 1000 });
      });

      test("Node's built-in WebSocket client negotiates it; 100 KiB of JSON round-trips", async () => {
        const flags = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : [];
        const { stdout } = await run(process.execPath, [...flags, '--no-warnings', '-e', NODE_CLIENT, s.url, BIG], {
          timeout: 30_000,
          maxBuffer: 1 << 20,
        });
        const result = JSON.parse(stdout) as { extensions: string; same: boolean; length: number };
        assert.match(result.extensions, /^permessage-deflate/);
        assert.deepEqual([result.same, result.length], [true, BIG.length]);
      });

      test('Python websockets negotiates it; 100 KiB of JSON round-trips', { skip: pythonMissing() }, async () => {
        const result = await python(s.url);
        assert.match(result.extensions, /^permessage-deflate/);
        if (mode === 'window') assert.match(result.extensions, /client_max_window_bits=12/);
        assert.deepEqual([result.same, result.length], [true, BIG.length]);
      });

      // The skip is the test's, not the suite's: a skipped suite's tests are not counted, so the
      // summary's "skipped" line would not show them.
      describe('headless Chromium', () => {
        const missing = browserMissing();
        let browser: Browser | undefined;
        before(async () => {
          if (missing === undefined) browser = await launchBrowser();
        });
        after(async () => {
          await browser?.close();
        });

        test(
          'negotiates it (its offer: permessage-deflate; client_max_window_bits); 100 KiB of JSON round-trips',
          { skip: missing },
          async () => {
            assert.ok(browser);
            const page = await browser.page();
            const result = await page.evaluate(
              ([url, big]) =>
                new Promise<{ extensions: string; same: boolean; length: number }>((resolve, reject) => {
                  const ws = new WebSocket(url);
                  ws.onopen = () => ws.send(big);
                  ws.onmessage = (e) => {
                    resolve({ extensions: ws.extensions, same: e.data === big, length: (e.data as string).length });
                    ws.close(1000);
                  };
                  ws.onerror = () => reject(new Error('WebSocket error'));
                }),
              [s.url, BIG] as const,
            );
            await page.close();
            assert.match(result.extensions, /^permessage-deflate/);
            assert.deepEqual([result.same, result.length], [true, BIG.length]);
            assert.ok(s.server.stats().deflate.messagesInflated > 0, 'Chromium sent it compressed');
          },
        );
      });
    });
  }
}
