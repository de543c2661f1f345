import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from '../../src/index.js';
import { until } from '../support/servers.js';
import { browserMissing, launchBrowser } from '../support/browser.js';

/**
 * The compact TLS path (tls.compact) against peers that are not Node:
 * Python's websockets over ssl, OpenSSL's s_client forcing KeyUpdates, and
 * headless Chromium. Each waits until its connection has moved to the
 * compact record layer before the part that matters.
 */
const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const cert = readFileSync(`${fixtures}cert.pem`);
const key = readFileSync(`${fixtures}key.pem`);
const PYTHON = '/usr/bin/python3';

function moved(server: Server): number {
  return server.stats().tls.compacted;
}

async function startCompact(): Promise<{ server: Server; port: number; received: string[] }> {
  const received: string[] = [];
  const server = createServer({
    tls: { cert, key, compact: true },
    logLevel: 'silent',
    checkOrigin: ['*'], // Chromium's page is about:blank
    message: (conn, data, isBinary) => {
      received.push(Buffer.from(data).toString());
      conn.send(data, isBinary);
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port, received };
}

function pythonMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import websockets'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `no Python websockets at ${PYTHON} (apt-get install python3-websockets)`;
}

describe('compact TLS with real peers', () => {
  test('python websockets over ssl: echo after the move, and a clean close', { skip: pythonMissing() }, async () => {
    const { server, port } = await startCompact();
    const script = `
import asyncio, ssl, sys, websockets
async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    async with websockets.connect("wss://127.0.0.1:${port}", ssl=ctx) as ws:
        sys.stdout.write("open\\n"); sys.stdout.flush()
        sys.stdin.readline()  # the test says when the connection has moved
        for text in ["after the move", "x" * 70000]:
            await ws.send(text)
            assert await ws.recv() == text
        await ws.close()
        print("ok", ws.close_code)
asyncio.run(main())
`;
    const child = spawn(PYTHON, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await until(() => out.includes('open'), 20000, 'python to connect');
      await until(() => moved(server) === 1, 5000, 'the move');
      child.stdin.write('go\n');
      assert.equal(await exited, 0, err);
      assert.match(out, /ok 1000/);
    } finally {
      child.kill();
      await server.close();
    }
  });

  test('openssl s_client: KeyUpdate requested (K) on the compact layer, then server messages under new keys', async () => {
    const { server, port } = await startCompact();
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-crlf'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    try {
      // The upgrade request as text lines (-crlf makes each LF a CRLF).
      await until(() => out.includes('---\n') || out.includes('SSL handshake'), 10000, 'the handshake');
      child.stdin.write(
        'GET / HTTP/1.1\nHost: 127.0.0.1\nUpgrade: websocket\nConnection: Upgrade\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n',
      );
      await until(() => out.includes('101 Switching Protocols'), 10000, 'the 101');
      await until(() => moved(server) === 1, 5000, 'the move');
      server.broadcast('before the update');
      await until(() => out.includes('before the update'), 5000, 'a message on the compact layer');
      // One command per read: s_client takes a read that begins with K as the command alone.
      child.stdin.write('K\n');
      await until(() => out.includes('KEYUPDATE'), 5000, 'the KeyUpdate');
      // s_client's KeyUpdate asks ours; only after both can this message be read by s_client.
      await new Promise((resolve) => setTimeout(resolve, 100));
      server.broadcast('after the update');
      await until(() => out.includes('after the update'), 5000, 'a message under the new keys');
      child.stdin.write('k\n');
      await until(() => out.split('KEYUPDATE').length === 3, 5000, 'the second KeyUpdate');
      await new Promise((resolve) => setTimeout(resolve, 100));
      server.broadcast('after the second update');
      await until(() => out.includes('after the second update'), 5000, 'a message after k');
      assert.equal(server.connections, 1, 'the connection is still open');
    } finally {
      child.kill();
      await server.close();
    }
  });

  test('headless Chromium over wss: echo after the move', { skip: browserMissing() }, async () => {
    const { server, port, received } = await startCompact();
    const browser = await launchBrowser({ ignoreHTTPSErrors: true });
    try {
      const page = await browser.page();
      await page.evaluate(
        (url) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(url);
            (globalThis as unknown as { ws: WebSocket }).ws = ws;
            ws.onopen = () => resolve();
            ws.onerror = () => reject(new Error('websocket error'));
          }),
        `wss://127.0.0.1:${port}`,
      );
      await until(() => moved(server) === 1, 5000, 'the move');
      const echoed = await page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const ws = (globalThis as unknown as { ws: WebSocket }).ws;
            ws.onmessage = (event) => resolve(String(event.data));
            ws.send('from chromium, after the move');
          }),
      );
      assert.equal(echoed, 'from chromium, after the move');
      assert.deepEqual(received, ['from chromium, after the move']);
      await page.close();
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
