import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { createServer, type Server } from '../../src/index.js';
import { KEY_STORE } from '../../src/tls/key-store.js';
import { until } from '../support/servers.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const cert = readFileSync(`${fixtures}cert.pem`);
const key = readFileSync(`${fixtures}key.pem`);

/** The compact transport's counters, from the public stats. */
function counters(server: Server): { moved: number; stayed: number } {
  const { compacted, stayed } = server.stats().tls;
  return { moved: compacted, stayed: Object.values(stayed).reduce((a, b) => a + b, 0) };
}

async function startCompact(): Promise<{ server: Server; url: string; errors: Error[] }> {
  const errors: Error[] = [];
  const server = createServer({
    tls: { cert, key, compact: true },
    logLevel: 'silent',
    error: (error) => void errors.push(error),
    message: (conn, data, isBinary) => void conn.send(data, isBinary),
  });
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, url: `wss://127.0.0.1:${port}`, errors };
}

function next(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(data as Buffer));
    ws.once('error', reject);
  });
}

test('compact TLS: ws over wss, echo on node:tls, then on the compact record layer, then a clean close', async () => {
  const { server, url, errors } = await startCompact();
  try {
    assert.equal(server.transport, 'handle');
    const ws = new WebSocket(url, { ca: cert });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await until(() => counters(server).moved === 1, 5000, 'the move to the compact layer');
    for (const size of [0, 1, 125, 126, 65535, 65536, 200000]) {
      const payload = Buffer.alloc(size, size & 0xff);
      const reply = next(ws);
      ws.send(payload);
      assert.deepEqual(await reply, payload, `size ${size}`);
    }
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.close(1000, 'done');
    assert.equal(await closed, 1000);
    await until(() => server.connections === 0, 5000, 'the server to drop the connection');
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
  }
});

test('compact TLS: a TLS 1.2 client stays on node:tls and is served the same', async () => {
  const { server, url } = await startCompact();
  try {
    const ws = new WebSocket(url, { ca: cert, maxVersion: 'TLSv1.2' });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await until(() => counters(server).stayed === 1, 5000, 'the refusal to move');
    assert.equal(server.stats().tls.stayed.protocol, 1);
    const reply = next(ws);
    ws.send('still here');
    assert.equal((await reply).toString(), 'still here');
    assert.equal(counters(server).moved, 0);
    assert.match(server.metrics(), /^lightws_tls_stayed_total\{reason="protocol"\} 1$/m);
    assert.match(server.metrics(), /^lightws_tls_compacted_total 0$/m);
    ws.close();
  } finally {
    await server.close();
  }
});

test('compact TLS: many connections move, and server.close ends them all and gives their key slots back', async () => {
  const slotsBefore = KEY_STORE.inUse;
  const { server, url } = await startCompact();
  try {
    const sockets = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(url, { ca: cert });
            ws.once('open', () => resolve(ws)).once('error', reject);
          }),
      ),
    );
    await until(() => counters(server).moved === 20, 10000, 'all to move');
    assert.equal(server.stats().tls.compactNow, 20);
    assert.equal(KEY_STORE.inUse, slotsBefore + 40);
    assert.match(server.metrics(), /^lightws_tls_compact_connections 20$/m);
    const replies = await Promise.all(
      sockets.map((ws, i) => {
        const reply = next(ws);
        ws.send(`n${i}`);
        return reply;
      }),
    );
    assert.deepEqual(
      replies.map((r) => r.toString()),
      sockets.map((_, i) => `n${i}`),
    );
    const closed = sockets.map((ws) => new Promise((resolve) => ws.once('close', resolve)));
    await server.close();
    await Promise.all(closed);
    assert.deepEqual(server.stats().tls, {
      compacted: 20,
      compactNow: 0,
      stayed: { protocol: 0, suite: 0, earlyData: 0, untracked: 0, notIdle: 0 },
    });
    assert.equal(KEY_STORE.inUse, slotsBefore);
  } finally {
    await server.close();
  }
});

test('compact TLS: a corrupted record ends that one connection with bad_record_mac; another keeps echoing', async () => {
  const { server, url, errors } = await startCompact();
  try {
    const port = Number(new URL(url).port);
    let tcp: Socket | undefined;
    let tlsError: Error | undefined;
    const victim = new WebSocket(url, {
      createConnection: () => {
        tcp = netConnect(port, '127.0.0.1');
        // ws does not surface a socket error after open (only close 1006): listen on the TLS socket.
        return tlsConnect({ socket: tcp, rejectUnauthorized: false }).on('error', (error: Error) => {
          tlsError = error;
        });
      },
    });
    const victimClose = new Promise<number>((resolve) => victim.once('close', (code) => resolve(code)));
    const bystander = new WebSocket(url, { ca: cert });
    await Promise.all(
      [victim, bystander].map((ws) => new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))),
    );
    await until(() => counters(server).moved === 2, 5000, 'both to move');
    // A record header and 40 bytes that no key sealed, straight on the victim's TCP socket.
    tcp!.write(Buffer.concat([Buffer.of(23, 3, 3, 0, 40), Buffer.alloc(40, 7)]));
    assert.equal(await victimClose, 1006);
    assert.match(String(tlsError?.message), /bad record mac/i);
    await until(() => server.connections === 1, 5000, 'the server to drop the victim');
    const reply = next(bystander);
    bystander.send('unharmed');
    assert.equal((await reply).toString(), 'unharmed');
    assert.deepEqual(errors, []);
    bystander.close();
  } finally {
    await server.close();
  }
});

test('compact TLS: a handler that terminates its connection mid-read; the records after it reach nothing', async () => {
  const errors: Error[] = [];
  const seen: string[] = [];
  const server = createServer({
    tls: { cert, key, compact: true },
    logLevel: 'silent',
    error: (error) => void errors.push(error),
    message: (conn, data) => {
      seen.push(Buffer.from(data).toString());
      if (Buffer.from(data).toString() === 'die') conn.terminate();
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const ws = new WebSocket(`wss://127.0.0.1:${port}`, { ca: cert });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await until(() => counters(server).moved === 1, 5000, 'the move');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // Corked: the three records leave in one write, so they arrive in one read.
    (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket.cork();
    ws.send('before');
    ws.send('die');
    ws.send('after');
    (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket.uncork();
    assert.equal(await closed, 1006);
    await until(() => server.connections === 0, 5000, 'the server to drop it');
    assert.deepEqual(seen, ['before', 'die']);
    assert.deepEqual(errors, []);
  } finally {
    await server.close();
  }
});

test('compact TLS: a 16 MiB echo survives garbage collections while the kernel takes its records', async () => {
  // The sealed records are only the write request's: a collection during the write must not free them.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { server, url, errors } = await startCompact();
  const collecting = setInterval(gc, 5);
  try {
    const ws = new WebSocket(url, { ca: cert, maxPayload: 32 << 20 });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await until(() => counters(server).moved === 1, 5000, 'the move');
    const payload = Buffer.alloc(16 << 20, 0x5a);
    for (let i = 0; i < 2; i++) {
      const reply = next(ws);
      ws.send(payload);
      assert.ok((await reply).equals(payload), `echo ${i}`);
    }
    ws.close();
    assert.deepEqual(errors, []);
  } finally {
    clearInterval(collecting);
    await server.close();
  }
});
