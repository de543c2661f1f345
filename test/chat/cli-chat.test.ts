import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient } from '../../src/index.js';
import { parseExposition } from '../support/prometheus-parser.js';
import { TRANSPORTS, until } from '../support/servers.js';

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
async function upgradeStatus(port: number, origin: string, host?: string): Promise<number> {
  if (host !== undefined) return upgradeStatusAs(port, origin, host);
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

/** The status of an upgrade request sent with this Host header (as a browser sends the name it used). */
function upgradeStatusAs(port: number, origin: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(head);
      if (status === null) return;
      socket.destroy();
      resolve(Number(status[1]));
    });
    socket.once('error', reject);
  });
}

/** The status of a plain request with this Host header (fetch cannot set Host). */
function httpStatus(port: number, path: string, host: string, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('error', reject);
    request.end();
  });
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
    assert.match(
      await (await fetch(`${base}/benchmark`, { method: 'POST' })).text(),
      /^test message sent to 1 connections here\n$/,
    );
    await until(() => got.length === 2, 3000, 'the echo and the test message');
    assert.deepEqual(got, ['ada: hello', 'test message']);
    const metrics = parseExposition(await (await fetch(`${base}/metrics`)).text());
    assert.equal(metrics.get('lightws_connections')!.samples.find((s) => s.labels.state === 'open')!.value, 1);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'SIGTERM closes gracefully');
  });

  for (const transport of TRANSPORTS) {
    test(`the chat's 4 KiB message limit holds under the CLI (no --max-message): 4,097 B closes with 1009 (${transport})`, async (t) => {
      const { port } = await chat(t, ['--transport', transport]);
      const got: string[] = [];
      let closed: number | undefined;
      const client = createClient({
        logLevel: 'silent',
        message: (_conn, data) => void got.push(String(data)),
        close: (_conn, code) => void (closed = code),
      });
      t.after(() => client.close());
      const listener = await client.connect(`ws://127.0.0.1:${port}/ws?room=big&nick=ear`);
      const sender = await client.connect(`ws://127.0.0.1:${port}/ws?room=big&nick=big`);
      sender.send('x'.repeat(4096));
      await until(() => got.some((l) => l.startsWith('big: x')), 3000, 'the 4,096 B line');
      sender.send('y'.repeat(4097));
      await until(() => closed !== undefined, 3000, 'the close');
      assert.equal(closed, 1009);
      assert.equal(listener.isOpen, true);
      assert.ok(!got.some((l) => l.includes('yyyy')), 'relayed to no one');
      // Given, --max-message still sets it.
      const bigger = await chat(t, ['--transport', transport, '--max-message', '8192']);
      const ok: string[] = [];
      const other = createClient({ logLevel: 'silent', message: (_conn, data) => void ok.push(String(data)) });
      t.after(() => other.close());
      (await other.connect(`ws://127.0.0.1:${bigger.port}/ws?room=z&nick=z`)).send('z'.repeat(8000));
      await until(() => ok.length === 1, 3000, '--max-message 8192 lets 8,000 B through');
    });

    test(`allowedHosts: bound to loopback, a Host that is not this machine gets 421, page and WebSocket alike (${transport})`, async (t) => {
      const { port } = await chat(t, ['--transport', transport]);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
        assert.equal(await httpStatus(port, '/', host), 200, host);
        assert.equal(await upgradeStatus(port, `http://${host}`, host), 101, host);
      }
      // A page on rebind.example whose name now resolves to 127.0.0.1: same origin as its own Host.
      const rebound = `rebind.example:${port}`;
      assert.equal(await httpStatus(port, '/', rebound), 421);
      assert.equal(await httpStatus(port, '/metrics', rebound), 421);
      assert.equal(await httpStatus(port, '/benchmark', rebound, 'POST'), 421);
      assert.equal(await upgradeStatus(port, `http://${rebound}`, rebound), 421);
      const open = await chat(t, ['--transport', transport, '--allow-host', 'rebind.example']);
      assert.equal(
        await upgradeStatus(open.port, `http://rebind.example:${open.port}`, `rebind.example:${open.port}`),
        101,
      );
      assert.equal(await httpStatus(open.port, '/', `localhost:${open.port}`), 421, 'the list replaces the default');
      const any = await chat(t, ['--transport', transport, '--allow-host', '*']);
      assert.equal(await httpStatus(any.port, '/', `anything.example:${any.port}`), 200);
    });
  }

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
