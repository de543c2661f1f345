import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../src/index.js';
import { parseExposition } from '../support/prometheus-parser.js';
import { until } from '../support/servers.js';

// dist/test/chat → dist/src/cli/main.js; the page's files as shipped, next to it.
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const PUBLIC = fileURLToPath(new URL('../../src/chat/public/', import.meta.url));

interface Running {
  child: ChildProcess;
  line: string;
  port: number;
  exited: Promise<number | null>;
}

/** Starts `lightws chat ...` and waits for its start-up line. */
async function chat(t: { after(fn: () => unknown): void }, args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [CLI, 'chat', '--port', '0', '--host', '127.0.0.1', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then((code) => reject(new Error(`lightws chat exited (${code}): ${stderr}`)));
  });
  const port = Number(/http:\/\/127\.0\.0\.1:(\d+)\//.exec(line)?.[1]);
  return { child, line, port, exited };
}

/** Opens a WebSocket with an Origin header (as a browser page would), returning the status of the answer. */
async function upgradeStatus(port: number, origin: string): Promise<number> {
  const client = createClient({ logLevel: 'silent' });
  try {
    await client.connect(`ws://127.0.0.1:${port}/ws`, { origin });
    return 101;
  } catch (error) {
    return (error as { statusCode?: number }).statusCode ?? 0;
  } finally {
    await client.close();
  }
}

describe('lightws chat', () => {
  test('prints the URL to open and how to stop; serves the page (no external scripts), /ws, /benchmark, /healthz, /metrics', async (t) => {
    const { line, port, child, exited } = await chat(t, []);
    assert.match(
      line,
      /^lightws chat: open http:\/\/127\.0\.0\.1:\d+\/ in a browser; WebSocket at ws:\/\/127\.0\.0\.1:\d+\/ws \(transport: handle\)\. Ctrl\+C stops it\.$/,
    );
    const base = `http://127.0.0.1:${port}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await page.text();
    assert.match(html, /<script src="\/chat\.js" defer><\/script>/);
    for (const file of readdirSync(PUBLIC)) {
      assert.doesNotMatch(
        readFileSync(`${PUBLIC}${file}`, 'utf8'),
        /(src|href)=["']?(https?:)?\/\//,
        `${file} loads nothing from elsewhere`,
      );
    }
    assert.equal((await fetch(`${base}/chat.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await fetch(`${base}/nothing-here`)).status, 404);
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok\n');
    const got: string[] = [];
    const client = createClient({ logLevel: 'silent', message: (_conn, data) => void got.push(String(data)) });
    t.after(() => client.close());
    const conn = await client.connect(`ws://127.0.0.1:${port}/ws?room=lobby&nick=ada`);
    conn.send('hello');
    assert.match(await (await fetch(`${base}/benchmark`)).text(), /^test message sent to 1 connections here\n$/);
    await until(() => got.length === 2, 3000, 'the echo and the test message');
    assert.deepEqual(got, ['ada: hello', 'test message']);
    const metrics = parseExposition(await (await fetch(`${base}/metrics`)).text());
    assert.equal(metrics.get('lightws_connections')!.samples.find((s) => s.labels.state === 'open')!.value, 1);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'SIGTERM closes gracefully');
  });

  test("the origin check: the page's own origin passes, another is 403 unless --allow-origin lists it (or *)", async (t) => {
    const plain = await chat(t, []);
    assert.equal(await upgradeStatus(plain.port, `http://127.0.0.1:${plain.port}`), 101);
    assert.equal(await upgradeStatus(plain.port, 'https://elsewhere.example'), 403);
    const listed = await chat(t, ['--allow-origin', 'https://elsewhere.example,null']);
    assert.equal(await upgradeStatus(listed.port, 'https://elsewhere.example'), 101);
    assert.equal(await upgradeStatus(listed.port, 'null'), 101, 'about:blank and file:// pages send Origin: null');
    assert.equal(await upgradeStatus(listed.port, `http://127.0.0.1:${listed.port}`), 101, 'the own page still passes');
    assert.equal(await upgradeStatus(listed.port, 'https://third.example'), 403);
    const any = await chat(t, ['--allow-origin', '*']);
    assert.equal(await upgradeStatus(any.port, 'https://third.example'), 101);
  });

  test('--deflate shared: the chat negotiates permessage-deflate, as browsers offer it, and its lines arrive whole', async (t) => {
    const { port } = await chat(t, ['--deflate', 'shared']);
    let extensions = '';
    const got: string[] = [];
    const client = createClient({
      logLevel: 'silent',
      deflate: 'shared',
      open: (_conn, response) => void (extensions = response.headers.get('sec-websocket-extensions') ?? ''),
      message: (_conn, data) => void got.push(String(data)),
    });
    t.after(() => client.close());
    const conn = await client.connect(`ws://127.0.0.1:${port}/ws?room=z&nick=zip`);
    assert.match(extensions, /^permessage-deflate/);
    const long = 'compress me '.repeat(200);
    conn.send(long);
    await until(() => got.length === 1, 3000, 'the line back');
    assert.equal(got[0], `zip: ${long.trim()}`);
    const metrics = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    assert.equal(metrics.get('lightws_connections')!.samples.find((s) => s.labels.state === 'open')!.value, 1);
  });

  test('--workers 2: messages reach users on every worker through the primary; /metrics per worker and summed', async (t) => {
    const { port, line } = await chat(t, ['--workers', '2']);
    assert.match(line, /\(2 workers\)/);
    const inboxes: string[][] = [];
    const client = createClient({
      logLevel: 'silent',
      message: (conn, data) => void inboxes[conn.data as number]!.push(String(data)),
    });
    t.after(() => client.close());
    const open = async (): Promise<Map<string, number>> => {
      const families = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      return new Map(
        families
          .get('lightws_connections')!
          .samples.filter((s) => s.labels.state === 'open')
          .map((s) => [s.labels.worker!, s.value]),
      );
    };
    const conns = [];
    // The kernel spreads connections over the workers' accept queues: connect until both hold some.
    for (let i = 0; i < 40; i++) {
      inboxes.push([]);
      conns.push(await client.connect(`ws://127.0.0.1:${port}/ws?room=lobby&nick=user${i}`, { data: i }));
      if (conns.length >= 2) {
        const perWorker = await open();
        if ((perWorker.get('0') ?? 0) > 0 && (perWorker.get('1') ?? 0) > 0) break;
      }
    }
    const perWorker = await open();
    assert.ok(
      (perWorker.get('0') ?? 0) > 0 && (perWorker.get('1') ?? 0) > 0,
      `both workers hold users: ${JSON.stringify([...perWorker])}`,
    );
    assert.equal(perWorker.get('all'), conns.length, 'the sum');
    // A subscription reaches the primary over its worker's IPC channel, so a join published on one
    // worker while another's subscription is still on its way may miss it (as with Redis). The
    // /metrics answer above is the barrier: it is a round trip from the primary to every worker,
    // behind their subscriptions on the same channels. Everything published from here on arrives.
    conns.forEach((conn, i) => conn.send(`hello from ${i}`));
    const said = (inbox: string[]): string[] => inbox.filter((m) => m.includes(': hello from ')).sort();
    const all = conns.map((_, i) => `user${i}: hello from ${i}`).sort();
    await until(
      () => inboxes.every((inbox) => said(inbox).length === conns.length),
      20000,
      'every message at every user',
    );
    for (const inbox of inboxes) assert.deepEqual(said(inbox), all);
    const families = parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    const relayed = families
      .get('lightws_remote_received_messages_total')!
      .samples.find((s) => s.labels.worker === 'all')!.value;
    assert.ok(relayed > 0, `messages relayed between workers: ${relayed}`);
  });
});
