import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, route, type HttpRequest } from '../../src/index.js';
import { generateKey } from '../../src/protocol/accept-key.js';
import { buildClientRequest } from '../../src/protocol/client-upgrade.js';
import { HttpRawClient } from '../support/http-client.js';
import { RawClient } from '../support/raw-client.js';
import { echo, start, TRANSPORTS, until, type Started } from '../support/servers.js';

/**
 * Plain HTTP on the WebSocket port: every status the exchange can answer,
 * keep-alive and pipelining, the bounds (head, timeout, body), the built-in
 * paths, on both transports, while a WebSocket beside them keeps echoing.
 */

/** A WebSocket that must still echo after whatever the test did to its neighbours. */
async function stillEchoes(bystander: RawClient): Promise<void> {
  const before = bystander.frames.length;
  bystander.send(1, 'still here');
  const frames = await bystander.frameCount(before + 1);
  assert.equal(frames[before]!.payload.toString(), 'still here');
}

const seen: HttpRequest[] = [];

for (const transport of TRANSPORTS) {
  describe(`plain HTTP over ${transport}`, () => {
    let s: Started;
    let bare: Started;
    let bystander: RawClient;
    before(async () => {
      s = await start(transport, {
        ...echo,
        handshakeTimeoutMs: 1000,
        maxHeaderSize: 1024,
        maxRequestBodySize: 1000,
        healthPath: '/healthz',
        metricsPath: '/metrics',
        request(request) {
          seen.push(request);
          const path = request.url.split('?')[0];
          if (path === '/') return { body: `hello ${request.method}\n`, headers: { 'X-Seen': String(seen.length) } };
          if (path === '/echo') return { body: request.body, headers: { 'Content-Type': 'application/x-echo' } };
          if (path === '/async')
            return new Promise((resolve) => setTimeout(() => resolve({ status: 201, body: 'later\n' }), 30));
          if (path === '/throws') throw new Error('handler bug');
          if (path === '/rejects') return Promise.reject(new Error('async handler bug'));
          if (path === '/bad-header') return { headers: { 'Bad Name': 'x' } };
          if (path === '/no-content') return { status: 204, body: 'dropped' };
          return undefined; // 404
        },
      });
      bare = await start(transport, echo);
      bystander = await RawClient.open(s.port);
    });
    after(async () => {
      bystander.destroy();
      await Promise.all([s.server.close({ timeoutMs: 1000 }), bare.server.close({ timeoutMs: 1000 })]);
    });

    test('no request handler: 426 Upgrade Required with Upgrade: websocket, then the connection closes', async () => {
      const client = await HttpRawClient.connect(bare.port);
      client.send('GET', '/');
      const response = await client.next();
      assert.equal(response.status, 426);
      assert.equal(response.headers.get('upgrade'), 'websocket');
      assert.equal(response.headers.get('connection'), 'Upgrade, close');
      assert.equal(response.headers.get('sec-websocket-version'), '13');
      await client.closed();
      assert.deepEqual(bare.server.stats().httpResponses, { 426: 1 });
    });

    test("200 for GET with the handler's headers; HEAD gets the length and no body; a POST body reaches the handler", async () => {
      const client = await HttpRawClient.connect(s.port);
      client.send('GET', '/?x=1');
      const get = await client.next(1);
      assert.equal(get.status, 200);
      assert.equal(get.body.toString(), 'hello GET\n');
      assert.equal(get.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.match(get.headers.get('date')!, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      assert.ok(get.headers.has('x-seen'));
      client.send('HEAD', '/');
      const head = await client.next(2);
      assert.equal(head.headers.get('content-length'), String('hello HEAD\n'.length));
      assert.equal(head.body.length, 0);
      client.send('POST', '/echo', {}, 'a body of some length');
      const post = await client.next(3);
      assert.equal(post.body.toString(), 'a body of some length');
      assert.equal(post.headers.get('content-type'), 'application/x-echo');
      const last = seen.at(-1)!;
      assert.equal(last.method, 'POST');
      assert.equal(last.headers.get('host'), '127.0.0.1');
      assert.match(last.remoteAddress, /^127\.0\.0\.1:\d+$/);
      assert.equal(client.ended, false, 'keep-alive: the connection stays for the next request');
      client.destroy();
      await stillEchoes(bystander);
    });

    test('pipelined requests are answered in order, an async one holding back those behind it', async () => {
      const client = await HttpRawClient.connect(s.port);
      const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
      client.write(get('/') + get('/async') + get('/nope') + get('/'));
      await client.next(4);
      assert.deepEqual(
        client.responses.map((r) => r.status),
        [200, 201, 404, 200],
      );
      assert.equal(client.responses[1]!.body.toString(), 'later\n');
      // Trickled one byte at a time, the next request still gets its answer.
      for (const byte of get('/')) {
        client.write(byte);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal((await client.next(5)).status, 200);
      client.destroy();
    });

    test('Connection: close and HTTP/1.0 end the connection after the answer; HTTP/1.0 keep-alive does not', async () => {
      const closing = await HttpRawClient.connect(s.port);
      closing.send('GET', '/', { Connection: 'close' });
      assert.equal((await closing.next()).headers.get('connection'), 'close');
      await closing.closed();
      const old = await HttpRawClient.connect(s.port);
      old.write('GET / HTTP/1.0\r\n\r\n');
      assert.equal((await old.next()).status, 200);
      await old.closed();
      const kept = await HttpRawClient.connect(s.port);
      kept.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      assert.equal((await kept.next()).headers.get('connection'), 'keep-alive');
      kept.write('GET / HTTP/1.0\r\n\r\n');
      await kept.next(2);
      await kept.closed();
    });

    test('a handler that throws, rejects or answers nonsense is a 500 and an error, for that request only; 204 sends no body', async () => {
      const before = s.errors.length;
      const client = await HttpRawClient.connect(s.port);
      for (const path of ['/throws', '/rejects', '/bad-header', '/no-content', '/']) client.send('GET', path);
      await client.next(5);
      assert.deepEqual(
        client.responses.map((r) => r.status),
        [500, 500, 500, 204, 200],
      );
      assert.equal(client.responses[3]!.headers.has('content-length'), false);
      assert.deepEqual(
        s.errors.slice(before).map((e) => e.message),
        ['handler bug', 'async handler bug', 'invalid header name: "Bad Name"'],
      );
      client.destroy();
    });

    const refusals: [string, string, number][] = [
      ['a head over maxHeaderSize', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1100)}\r\n\r\n`, 431],
      ['garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 400],
      [
        'a body over maxRequestBodySize (from Content-Length, before the body)',
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n',
        413,
      ],
      ['a chunked body', 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 411],
      [
        'an expectation other than 100-continue',
        'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\n',
        417,
      ],
      ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
      ['a bad Content-Length', 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
      ['CONNECT (authority-form)', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 400],
    ];
    for (const [what, bytes, status] of refusals) {
      test(`${what}: ${status} at once, and the connection closes`, async () => {
        const client = await HttpRawClient.connect(s.port);
        const started = Date.now();
        client.write(bytes);
        assert.equal((await client.next()).status, status);
        assert.ok(Date.now() - started < 900, 'answered before the handshake timeout');
        client.destroy();
        await stillEchoes(bystander);
      });
    }

    test('a head that never ends is closed at handshakeTimeoutMs; so is a keep-alive connection that goes quiet', async () => {
      const before = s.server.stats();
      const slow = await HttpRawClient.connect(s.port);
      slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const quiet = await HttpRawClient.connect(s.port);
      quiet.send('GET', '/');
      await quiet.next();
      await Promise.all([slow.closed(4000), quiet.closed(4000)]);
      assert.equal(slow.responses.length, 0);
      const after = s.server.stats();
      assert.equal(after.httpTimeouts - before.httpTimeouts, 1, 'the quiet keep-alive');
      assert.equal(after.handshakeTimeouts - before.handshakeTimeouts, 1, 'the slow head');
      await stillEchoes(bystander);
    });

    test('a body that arrives in pieces, after 100 Continue when asked', async () => {
      const client = await HttpRawClient.connect(s.port);
      client.write('POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n');
      assert.equal((await client.next(1)).status, 100);
      client.write('01234');
      await new Promise((resolve) => setTimeout(resolve, 20));
      client.write('56789GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await client.next(3);
      assert.equal(client.responses[1]!.body.toString(), '0123456789');
      assert.equal(client.responses[2]!.status, 200);
      client.destroy();
    });

    test('the built-in paths: /healthz 200, /metrics in the exposition format, 405 for other methods; they come before the handler', async () => {
      const client = await HttpRawClient.connect(s.port);
      client.send('GET', '/healthz');
      client.send('GET', '/metrics');
      client.send('POST', '/healthz', {}, 'x');
      await client.next(3);
      const [health, metrics, post] = client.responses;
      assert.equal(health!.status, 200);
      assert.equal(health!.body.toString(), 'ok\n');
      assert.equal(metrics!.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(metrics!.body.toString(), /^lightws_connections\{state="open"\} 1$/m);
      assert.equal(post!.status, 405);
      assert.equal(post!.headers.get('allow'), 'GET, HEAD');
      client.destroy();
      await until(() => s.server.stats().http === 0, 2000, 'the HTTP connections gone');
      assert.equal(s.server.stats().pool.lentBuffers, 0);
    });
  });
}

for (const transport of TRANSPORTS) {
  describe(`plain HTTP and close() over ${transport}`, () => {
    test('/healthz answers 503 (and closes) on a kept connection while WebSockets drain; new upgrades get 503', async () => {
      const s = await start(transport, { healthPath: '/healthz' });
      const lingering = await RawClient.open(s.port); // never answers our Close: the drain lasts
      const lb = await HttpRawClient.connect(s.port); // a load balancer's keep-alive health check
      lb.send('GET', '/healthz');
      assert.equal((await lb.next(1)).status, 200);
      const idle = await HttpRawClient.connect(s.port);
      idle.send('GET', '/healthz');
      await idle.next(1);
      const closing = s.server.close({ timeoutMs: 1500 });
      await lingering.closeCode();
      lb.send('GET', '/healthz');
      const draining = await lb.next(2);
      assert.equal(draining.status, 503);
      assert.equal(draining.headers.get('connection'), 'close');
      await lb.closed();
      idle.write(buildClientRequest({ host: '127.0.0.1', path: '/', key: generateKey() }));
      assert.equal((await idle.next(2)).status, 503, 'an upgrade during the drain');
      const result = await closing;
      assert.deepEqual(result, { closed: 2, terminated: 1 });
      lingering.destroy();
    });

    test('close() does not wait for idle keep-alive connections when no WebSocket is left', async () => {
      const s = await start(transport, { healthPath: '/healthz' });
      const idle = await HttpRawClient.connect(s.port);
      idle.send('GET', '/healthz');
      await idle.next();
      const started = Date.now();
      assert.deepEqual(await s.server.close({ timeoutMs: 3000 }), { closed: 1, terminated: 0 });
      assert.ok(Date.now() - started < 1000);
      await idle.closed();
    });
  });

  describe(`plain HTTP with routes over ${transport}`, () => {
    test("a route's request handler answers its paths; a WebSocket route answers 426; an HTTP route refuses upgrades with 404", async () => {
      const server = createServer({
        transport,
        logLevel: 'silent',
        routes: [
          route('/ws', { message: (conn, data) => void conn.send(data) }),
          route('/*', { request: (request) => ({ body: `page ${request.url}` }) }),
        ],
      });
      const { port } = await server.listen(0, '127.0.0.1');
      const client = await HttpRawClient.connect(port);
      client.send('GET', '/index.html');
      client.send('GET', '/ws');
      await client.next(2);
      assert.equal(client.responses[0]!.body.toString(), 'page /index.html');
      assert.equal(client.responses[1]!.status, 426);
      const refused = await RawClient.connect(port);
      refused.write(refused.request().replace('GET / ', 'GET /page '));
      await refused.until(() => refused.response !== '', 'the answer');
      assert.match(refused.response, /^HTTP\/1\.1 404 /);
      const ws = await RawClient.connect(port);
      ws.write(ws.request().replace('GET / ', 'GET /ws '));
      await ws.until(() => ws.response !== '', 'the 101');
      assert.match(ws.response, /^HTTP\/1\.1 101 /);
      for (const c of [client, refused, ws]) c.destroy();
      await server.close({ timeoutMs: 500 });
    });
  });
}
