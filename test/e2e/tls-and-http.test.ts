import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createServer } from '../../src/index.js';

// dist/test/e2e → test/fixtures
const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const cert = readFileSync(`${fixtures}cert.pem`);
const key = readFileSync(`${fixtures}key.pem`);

function roundTrip(url: string, options: WebSocket.ClientOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => ws.send('over the wire'));
    ws.once('message', (data) => {
      resolve(data.toString());
      ws.close();
    });
    ws.once('error', reject);
  });
}

describe('TLS and existing http servers', () => {
  test('wss:// echo through the tls option', async () => {
    const server = createServer({ tls: { cert, key }, logLevel: 'silent', message: (c, d, b) => void c.send(d, b) });
    assert.equal(server.transport, 'socket');
    const { port } = await server.listen(0, '127.0.0.1');
    assert.equal(await roundTrip(`wss://127.0.0.1:${port}`, { ca: cert }), 'over the wire');
    await server.close();
  });

  test('handleUpgrade inside a node:http server, which keeps serving plain HTTP', async () => {
    const ws = createServer({ logLevel: 'silent', message: (c, d, b) => void c.send(d, b) });
    const httpServer = http.createServer((_req, res) => res.end('plain http'));
    httpServer.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpServer.address() as AddressInfo;
    assert.equal(await roundTrip(`ws://127.0.0.1:${port}/chat`), 'over the wire');
    const body = await new Promise<string>((resolve) =>
      http.get(`http://127.0.0.1:${port}/`, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(text));
      }),
    );
    assert.equal(body, 'plain http');
    await ws.close();
    await new Promise((resolve) => httpServer.close(resolve));
  });

  test('handleUpgrade inside a node:https server, with a refused upgrade answered over HTTP', async () => {
    const ws = createServer({
      logLevel: 'silent',
      upgrade: (request) => (request.url === '/no' ? { reject: 403 } : undefined),
      message: (c, d, b) => void c.send(d, b),
    });
    const httpsServer = https.createServer({ cert, key });
    httpsServer.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
    const { port } = httpsServer.address() as AddressInfo;
    assert.equal(await roundTrip(`wss://127.0.0.1:${port}/yes`, { ca: cert }), 'over the wire');
    const refused = new WebSocket(`wss://127.0.0.1:${port}/no`, { ca: cert });
    const status = await new Promise((resolve) =>
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode)),
    );
    assert.equal(status, 403);
    await ws.close();
    await new Promise((resolve) => httpsServer.close(resolve));
  });
});
