import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { createServer, route, type Server, type TransportName } from '../../src/index.js';
import type { Reactor } from '../../src/reactor/reactor.js';
import { TRANSPORTS, until } from '../support/servers.js';

function talk(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => ws.send(text));
    ws.once('message', (data) => {
      resolve(String(data));
      ws.close();
    });
    ws.once('error', reject);
  });
}

function refusal(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => reject(new Error(`${url} opened`)));
    ws.on('error', () => {});
  });
}

function routedServer(transport: TransportName, closes: string[]): Server<unknown> {
  return createServer({
    transport,
    logLevel: 'silent',
    routes: [
      route('/chat', {
        upgrade: (request) => ({ data: { room: new URL(request.url, 'ws://x').searchParams.get('room') ?? 'lobby' } }),
        message: (conn, data) => void conn.send(`chat ${conn.data.room}: ${String(data)}`),
        close: (conn, code) => void closes.push(`chat ${conn.data.room} ${code}`),
      }),
      route<{ since: number }>('/feed/*', {
        open: (conn) => {
          conn.data = { since: 1 };
        },
        message: (conn, data) => void conn.send(`feed since ${conn.data?.since}: ${String(data)}`),
      }),
      route('/feed/private/*', { upgrade: () => ({ reject: 403 }) }),
    ],
  });
}

for (const transport of TRANSPORTS) {
  describe(`routes over ${transport}`, () => {
    test('the path picks the handler set: exact, prefix, the longest prefix; none is 404', async () => {
      const closes: string[] = [];
      const server = routedServer(transport, closes);
      const { port } = await server.listen(0, '127.0.0.1');
      try {
        const base = `ws://127.0.0.1:${port}`;
        assert.equal(await talk(`${base}/chat?room=7`, 'hi'), 'chat 7: hi');
        assert.equal(await talk(`${base}/feed`, 'a'), 'feed since 1: a');
        assert.equal(await talk(`${base}/feed/sports/today`, 'b'), 'feed since 1: b');
        assert.equal(await refusal(`${base}/feed/private/x`), 403, "the longest prefix's upgrade hook decides");
        for (const path of ['/', '/chat/', '/chatroom', '/feedback'])
          assert.equal(await refusal(`${base}${path}`), 404, path);
        await until(() => closes.length === 1);
        assert.deepEqual(
          closes,
          ['chat 7 1005'],
          "only the chat route's close handler, with its own data (ws closes without a code)",
        );
      } finally {
        await server.close();
      }
    });
  });
}

describe('routes', () => {
  test('handleUpgrade is routed the same way', async () => {
    const server = routedServer('socket', []);
    const httpServer = http.createServer();
    httpServer.on('upgrade', (req, socket, head) => server.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpServer.address() as AddressInfo;
    assert.equal(await talk(`ws://127.0.0.1:${port}/chat`, 'x'), 'chat lobby: x');
    assert.equal(await refusal(`ws://127.0.0.1:${port}/none`), 404);
    await server.close();
    await new Promise((resolve) => httpServer.close(resolve));
  });

  test('a server with routes takes no handlers of its own but error; a bad pattern fails at creation', () => {
    assert.throws(
      () => createServer({ routes: [route('/a', {})], message: () => {} }),
      /handlers per route, not message/,
    );
    assert.doesNotThrow(() => createServer({ routes: [route('/a', {})], error: () => {} }));
    assert.throws(() => createServer({ routes: [route('a', {})] }), /route path must be/);
    assert.throws(() => route('/a', { message: 'no' as never }), /message must be a function/);
  });

  test('without routes the handlers are called directly: no dispatcher in between', () => {
    const message = (): void => {};
    const server = createServer({ message });
    const reactor = (server as unknown as { reactor: Reactor }).reactor;
    const inbound = (reactor as unknown as { inbound: { handlers: { message: unknown } } }).inbound;
    assert.equal(inbound.handlers.message, message);
  });
});
