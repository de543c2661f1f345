import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createServer, type Connection, type HandshakeRequest } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { TRANSPORTS, until } from '../support/servers.js';
import { Opcode } from '../../src/protocol/opcode.js';

/** What an Express-style middleware leaves on the request before the upgrade. */
type WithUser = IncomingMessage & { user?: string };

async function httpServer(
  onUpgrade: (req: WithUser, socket: import('node:stream').Duplex, head: Buffer) => void,
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => res.end('plain http'));
  server.on('upgrade', (req: WithUser, socket, head) => {
    req.user = 'alice'; // a session or passport would put this here
    onUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => ws.once('open', () => resolve(ws)).once('error', reject));
}

function closeWs(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
}

describe('handleUpgrade', () => {
  test('the upgrade hook and open get the very IncomingMessage, with what middleware put on it', async () => {
    const seen: [string, IncomingMessage | undefined, string | undefined, string][] = [];
    const ws = createServer({
      logLevel: 'silent',
      upgrade(request) {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- TypeScript 7 needs it (ESLint's 6.0 infers `request` differently here)
        seen.push(['upgrade', request.httpRequest, (request.httpRequest as WithUser | undefined)?.user, request.url]);
        return { data: { user: (request.httpRequest as WithUser).user! } };
      },
      open(conn, request) {
        seen.push(['open', request.httpRequest, conn.data.user, request.headers.get('x-trace') ?? '']);
      },
    });
    let upgraded: IncomingMessage | undefined;
    const { server, port } = await httpServer((req, socket, head) => {
      upgraded = req;
      ws.handleUpgrade(req, socket, head);
    });
    const client = new WebSocket(`ws://127.0.0.1:${port}/room/7?x=1`, { headers: { 'X-Trace': 'abc' } });
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    assert.deepEqual(seen, [
      ['upgrade', upgraded, 'alice', '/room/7?x=1'],
      ['open', upgraded, 'alice', 'abc'],
    ]);
    assert.ok(upgraded !== undefined);
    await closeWs(client);
    await ws.close();
    await new Promise((resolve) => server.close(resolve));
  });

  test("ws's callback gets the connection once open, after the open handler and before any message", async () => {
    const order: string[] = [];
    const ws = createServer({
      logLevel: 'silent',
      open: () => void order.push('open handler'),
      message: (conn, data) => void order.push(`message ${String(data)} on ${conn.transport}`),
    });
    const { server, port } = await httpServer((req, socket, head) => {
      ws.handleUpgrade(req, socket, head, (conn, request) => {
        order.push(`callback ${request === req} ${conn.isOpen}`);
      });
    });
    // The first frame goes right behind the request, so it arrives as `head` or on the socket.
    const raw = await RawClient.connect(port);
    raw.write(Buffer.concat([Buffer.from(raw.request(), 'latin1'), raw.frame(Opcode.Text, 'early')]));
    await until(() => order.length === 3, 3000, 'the message');
    assert.deepEqual(order, ['open handler', 'callback true true', 'message early on socket']);
    raw.socket.destroy();
    await ws.close();
    await new Promise((resolve) => server.close(resolve));
  });

  test('{ data } is conn.data from the start; an upgrade hook that returns data replaces it', async () => {
    const seen: unknown[] = [];
    const ws = createServer<{ from: string }>({
      logLevel: 'silent',
      upgrade: (request: HandshakeRequest) => (request.url === '/hook' ? { data: { from: 'hook' } } : undefined),
      open: (conn) => void seen.push(conn.data),
    });
    const { server, port } = await httpServer((req, socket, head) => {
      ws.handleUpgrade(req, socket, head, {
        data: { from: `caller ${req.user}` },
        onOpen: (conn) => void seen.push(`onOpen ${conn.data?.from}`),
      });
    });
    for (const path of ['/given', '/hook']) await closeWs(await openWs(`ws://127.0.0.1:${port}${path}`));
    await until(() => seen.length === 4);
    assert.deepEqual(seen, [{ from: 'caller alice' }, 'onOpen caller alice', { from: 'hook' }, 'onOpen hook']);
    await ws.close();
    await new Promise((resolve) => server.close(resolve));
  });

  test('an invalid request is refused by the same rules, without re-parsing bytes: 426, 400, 431', async () => {
    let opened = 0;
    const ws = createServer({ logLevel: 'silent', maxHeaderSize: 1024, open: () => void opened++ });
    const { server, port } = await httpServer((req, socket, head) =>
      ws.handleUpgrade(req, socket, head, () => void opened++),
    );
    const answers: string[] = [];
    const head = (version: string, key: string, pad = ''): string =>
      `GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: ${version}\r\nSec-WebSocket-Key: ${key}\r\n${pad}\r\n`;
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    for (const request of [head('8', key), head('13', 'c2hvcnQ='), head('13', key, `X-Pad: ${'a'.repeat(1100)}\r\n`)]) {
      const raw = await RawClient.connect(port);
      raw.write(request);
      await raw.until(() => raw.response !== '', 'the answer');
      answers.push(raw.response.split('\r\n')[0]!);
      raw.socket.destroy();
    }
    assert.deepEqual(
      answers.map((line) => line.split(' ')[1]),
      ['426', '400', '431'],
    );
    assert.equal(opened, 0);
    assert.equal(ws.stats().handshakesRefused, 3);
    await ws.close();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const transport of TRANSPORTS) {
    test(`conn.transport and stats().transports tell listen's ${transport} connections from handleUpgrade's`, async () => {
      const conns: Connection[] = [];
      const ws = createServer({ logLevel: 'silent', transport, open: (conn) => void conns.push(conn) });
      const { port: wsPort } = await ws.listen(0, '127.0.0.1');
      const { server, port } = await httpServer((req, socket, head) => ws.handleUpgrade(req, socket, head));
      const clients = [
        await openWs(`ws://127.0.0.1:${wsPort}`),
        await openWs(`ws://127.0.0.1:${wsPort}`),
        await openWs(`ws://127.0.0.1:${port}`),
      ];
      await until(() => conns.length === 3);
      assert.deepEqual(
        conns.map((c) => c.transport),
        [transport, transport, 'socket'],
      );
      assert.equal(ws.transport, transport, 'what listen uses');
      const expected = transport === 'handle' ? { handle: 2, socket: 1 } : { handle: 0, socket: 3 };
      assert.deepEqual(ws.stats().transports, expected);
      assert.equal(ws.stats().connections, 3);
      for (const client of clients) await closeWs(client);
      await until(() => ws.stats().connections === 0);
      assert.deepEqual(ws.stats().transports, { handle: 0, socket: 0 });
      await ws.close();
      await new Promise((resolve) => server.close(resolve));
    });
  }
});
