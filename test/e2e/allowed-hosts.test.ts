import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createServer } from '../../src/index.js';
import { echo, start, TRANSPORTS } from '../support/servers.js';

/**
 * DNS rebinding (issue #20, case 9): `allowedHosts` answers only the Host names listed, 421 for
 * any other, on upgrades and plain HTTP alike; and the default origin check compares schemes on a
 * TLS connection. A bystander keeps echoing throughout.
 */

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const cert = readFileSync(`${fixtures}cert.pem`);
const key = readFileSync(`${fixtures}key.pem`);

const UPGRADE_FIELDS =
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

/** Sends one request head and returns the status line's code (the connection is then dropped). */
function statusOf(port: number, head: string, secure = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = secure
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => socket.write(head))
      : net.connect(port, '127.0.0.1', () => socket.write(head));
    let got = '';
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(got);
      if (status === null) return;
      socket.destroy();
      resolve(Number(status[1]));
    });
    socket.once('error', reject);
  });
}

const upgrade = (port: number, host: string, origin?: string, secure = false): Promise<number> =>
  statusOf(
    port,
    `GET / HTTP/1.1\r\nHost: ${host}\r\n${origin === undefined ? '' : `Origin: ${origin}\r\n`}${UPGRADE_FIELDS}\r\n`,
    secure,
  );
const get = (port: number, path: string, host: string): Promise<number> =>
  statusOf(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);

async function bystander(url: string): Promise<() => Promise<string>> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return async () => {
    const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('still here');
    const text = await reply;
    ws.close();
    return text;
  };
}

for (const transport of TRANSPORTS) {
  describe(`allowedHosts (${transport})`, () => {
    test('a Host not listed gets 421 on an upgrade, the built-in paths and the request handler; listed ones pass', async () => {
      const s = await start(transport, {
        ...echo,
        allowedHosts: ['LocalHost', '127.0.0.1', '.example.com', '::1'],
        healthPath: '/healthz',
        request: () => ({ body: 'page\n' }),
      });
      const still = await bystander(s.url);
      const { port } = s;
      for (const host of [
        `localhost:${port}`,
        `LOCALHOST:${port}`,
        `127.0.0.1:${port}`,
        'chat.example.com',
        'example.com',
        `[::1]:${port}`,
      ])
        assert.equal(await upgrade(port, host), 101, host);
      assert.equal(await upgrade(port, `localhost:${port}`, `http://localhost:${port}`), 101, 'a page of its own');
      // A page on rebind.evil whose name now resolves to 127.0.0.1: its Origin matches its Host.
      const rebound = `rebind.evil:${port}`;
      assert.equal(await upgrade(port, rebound, `http://${rebound}`), 421);
      for (const host of [rebound, 'example.com.evil', 'notexample.com', '127.0.0.2', `[::2]:${port}`])
        assert.equal(await upgrade(port, host), 421, host);
      assert.equal(await get(port, '/healthz', rebound), 421);
      assert.equal(await get(port, '/page', rebound), 421);
      assert.equal(await get(port, '/healthz', `localhost:${port}`), 200);
      assert.equal(await get(port, '/page', `127.0.0.1:${port}`), 200);
      assert.equal(s.server.stats().handshakeRefusals['421'], 6, 'the refused upgrades, counted by status');
      assert.equal(await still(), 'still here');
      await s.server.close();
    });

    test('without allowedHosts any Host is answered (the default)', async () => {
      const s = await start(transport, { ...echo, healthPath: '/healthz' });
      assert.equal(await upgrade(s.port, 'anything.example'), 101);
      assert.equal(await get(s.port, '/healthz', 'anything.example'), 200);
      await s.server.close();
    });

    test('the default origin check on a plain connection: http and https pages of the same host:port pass (TLS may end at a proxy)', async () => {
      const s = await start(transport, echo);
      const host = `127.0.0.1:${s.port}`;
      assert.equal(await upgrade(s.port, host, `http://${host}`), 101);
      assert.equal(await upgrade(s.port, host, `https://${host}`), 101);
      assert.equal(await upgrade(s.port, host, `http://127.0.0.1:${s.port + 1}`), 403);
      await s.server.close();
    });
  });
}

describe('the default origin check over TLS (socket transport: TLS runs on net sockets)', () => {
  test('on a TLS connection only an https page is same-origin; an http page of the same name gets 403', async () => {
    const server = createServer({ tls: { cert, key }, logLevel: 'silent', ...echo });
    const { port } = await server.listen(0, '127.0.0.1');
    try {
      const host = `localhost:${port}`;
      assert.equal(await upgrade(port, host, `https://${host}`, true), 101);
      assert.equal(await upgrade(port, host, `http://${host}`, true), 403, 'a plain-http page (port 80 or this port)');
      // Host without a port on the default port: an http page on port 80 of the same name is another origin.
      assert.equal(await upgrade(port, 'localhost', 'http://localhost', true), 403);
      assert.equal(await upgrade(port, 'localhost', 'https://localhost', true), 101);
      assert.equal(await upgrade(port, host, 'chrome-extension://abcdef', true), 403);
      assert.equal(await upgrade(port, host, undefined, true), 101, 'no Origin: not a browser');
    } finally {
      await server.close();
    }
  });
});
