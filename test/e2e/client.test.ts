import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { createClient, type Connection, type TransportName } from '../../src/index.js';
import { echo, start, TRANSPORTS, until } from '../support/servers.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

/** A client whose every message lands in `inbox`. */
function collectingClient(transport: TransportName) {
  const inbox: [string, boolean][] = [];
  const closes: number[] = [];
  const client = createClient({
    transport,
    logLevel: 'silent',
    maxMessageSize: 32 << 20,
    message: (_conn, data, isBinary) => void inbox.push([isBinary ? data.toString('hex') : data.toString(), isBinary]),
    close: (_conn, code) => void closes.push(code),
  });
  return { client, inbox, closes };
}

for (const clientTransport of TRANSPORTS) {
  for (const serverTransport of TRANSPORTS) {
    describe(`client over ${clientTransport} → server over ${serverTransport}`, () => {
      test('§5.3: masked frames of 0 B … 4 MiB echo intact; close handshake', async () => {
        const s = await start(serverTransport, { ...echo, maxMessageSize: 32 << 20 });
        const { client, inbox, closes } = collectingClient(clientTransport);
        const conn = await client.connect(`${s.url}/echo?x=1`);
        const sizes = [0, 1, 125, 126, 65535, 65536, 4 << 20];
        for (const size of sizes) conn.send(Buffer.alloc(size, size & 0xff));
        conn.send('text ✓');
        await until(() => inbox.length === sizes.length + 1, 10000, 'echoes');
        sizes.forEach((size, i) =>
          assert.equal(inbox[i]![0], Buffer.alloc(size, size & 0xff).toString('hex'), `${size} B`),
        );
        assert.deepEqual(inbox.at(-1), ['text ✓', false]);
        conn.close(1000, 'done');
        await until(() => closes.length === 1, 5000, 'the close');
        assert.deepEqual(closes, [1000]);
        assert.equal(client.stats().pool.lentBuffers, 0);
        await until(() => s.server.stats().pool.lentBuffers === 0 && s.server.connections === 0);
        await client.close();
        await s.server.close();
      });
    });
  }

  describe(`client over ${clientTransport}: interop and failures`, () => {
    test('talks to a ws server (which rejects unmasked frames)', async () => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
      await new Promise((resolve) => wss.once('listening', resolve));
      const port = (wss.address() as net.AddressInfo).port;
      const { client, inbox } = collectingClient(clientTransport);
      const conn = await client.connect(`ws://127.0.0.1:${port}`, { protocols: ['p1'] });
      conn.send('hello ws');
      conn.send(Buffer.alloc(100000, 3));
      await until(() => inbox.length === 2);
      assert.equal(inbox[0]![0], 'hello ws');
      assert.equal(inbox[1]![0], Buffer.alloc(100000, 3).toString('hex'));
      await client.close();
      await new Promise((resolve) => wss.close(resolve));
    });

    test('connects from an explicit source address in 127.0.0.0/8', async () => {
      let remote = '';
      const s = await start('handle', {
        open: (conn: Connection) => {
          remote = conn.remoteAddress;
        },
      });
      const { client } = collectingClient(clientTransport);
      await client.connect(s.url, {
        localAddress: '127.0.0.9',
        localPort: 23456 + (clientTransport === 'socket' ? 1 : 0),
      });
      await until(() => remote !== '');
      assert.equal(remote, `127.0.0.9:${23456 + (clientTransport === 'socket' ? 1 : 0)}`);
      await client.close();
      await s.server.close();
    });

    test('rejects on a refused connection, a refused upgrade and a bad Sec-WebSocket-Accept', async () => {
      const { client } = collectingClient(clientTransport);
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const freePort = (closed.address() as net.AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      await assert.rejects(client.connect(`ws://127.0.0.1:${freePort}`), /ECONNREFUSED/);

      const s = await start('handle', { upgrade: () => ({ reject: 403 }) });
      await assert.rejects(client.connect(s.url), /403/);
      await s.server.close();

      const liar = net.createServer((socket) =>
        socket.once('data', () =>
          socket.write(
            'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
          ),
        ),
      );
      await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
      await assert.rejects(client.connect(`ws://127.0.0.1:${(liar.address() as net.AddressInfo).port}`), /[Aa]ccept/);
      liar.close();
      assert.equal(client.connections, 0);
      await client.close();
    });
  });
}

test('wss:// client to a TLS server', async () => {
  const cert = readFileSync(`${fixtures}cert.pem`);
  const key = readFileSync(`${fixtures}key.pem`);
  const s = await start('socket', { ...echo, tls: { cert, key } });
  const inbox: string[] = [];
  const client = createClient({
    tls: { ca: cert },
    logLevel: 'silent',
    message: (_c, d) => void inbox.push(d.toString()),
  });
  const conn = await client.connect(`wss://localhost:${s.port}`);
  conn.send('secret');
  await until(() => inbox.length === 1);
  assert.deepEqual(inbox, ['secret']);
  await client.close();
  await s.server.close();
});
