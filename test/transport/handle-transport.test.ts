import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { requireRawBindings, type RawTcpHandle } from '../../src/transport/raw-bindings.js';
import { upgradeRequest } from '../support/fake-link.js';
import { echo, start } from '../support/servers.js';
import { createServer } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';

/**
 * Counts setNoDelay calls on raw TCP handles made while `body` runs. Our
 * clients (plain net.connect, no noDelay) never call it, so every call is
 * the server's.
 */
async function countNoDelayCalls(body: () => Promise<void>): Promise<number> {
  const proto = requireRawBindings().TCP.prototype as RawTcpHandle;
  const original = Object.getOwnPropertyDescriptor(proto, 'setNoDelay')!;
  let calls = 0;
  const wrapped = function (this: RawTcpHandle, enable: boolean): number {
    calls++;
    return (original.value as RawTcpHandle['setNoDelay']).call(this, enable);
  };
  Object.defineProperty(proto, 'setNoDelay', { ...original, value: wrapped });
  try {
    await body();
  } finally {
    Object.defineProperty(proto, 'setNoDelay', original);
  }
  return calls;
}

/** Opens `count` connections, each upgraded (101 read), then closes them. */
async function upgrades(port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.once('data', (data) => {
        assert.match(data.toString('latin1'), /^HTTP\/1\.1 101 /);
        resolve();
      });
      socket.write(upgradeRequest());
    });
    socket.destroy();
  }
}

test('handle: TCP_NODELAY is set once on the listener, which accepted sockets inherit on Linux, not once per connection', async (t) => {
  const calls = await countNoDelayCalls(async () => {
    const { server, port } = await start('handle', echo);
    t.after(() => server.close({ timeoutMs: 500 }));
    await upgrades(port, 4);
  });
  // Linux: the listener only. Elsewhere the listener is not asked, and each accepted socket is.
  assert.equal(calls, process.platform === 'linux' ? 1 : 4);
});

test('handle: noDelay false sets TCP_NODELAY nowhere', async (t) => {
  const calls = await countNoDelayCalls(async () => {
    const { server, port } = await start('handle', { ...echo, noDelay: false });
    t.after(() => server.close({ timeoutMs: 500 }));
    await upgrades(port, 2);
  });
  assert.equal(calls, 0);
});

test('handle: the 101 goes to the kernel from its string, borrowing no pooled buffer', async (t) => {
  const { server, port } = await start('handle', echo);
  t.after(() => server.close({ timeoutMs: 500 }));
  const pool = (server as unknown as { reactor: { pool: { stats(): { borrows: number } } } }).reactor.pool;
  const before = pool.stats().borrows;
  await upgrades(port, 3);
  assert.equal(pool.stats().borrows, before);
});

test('a corked write of the same length as the last reuses its view of the pooled buffer: no garbage per write', async () => {
  const proto = requireRawBindings().TCP.prototype as {
    writeBuffer: (req: unknown, buf: Uint8Array) => unknown;
  };
  const original = proto.writeBuffer;
  const parts: Uint8Array[] = [];
  proto.writeBuffer = function (this: unknown, req: unknown, buf: Uint8Array): unknown {
    // The server's: part of a pooled buffer, which owns its memory from offset 0 (the client's come from Node's pool).
    if (buf.byteOffset === 0 && buf.length < buf.buffer.byteLength) parts.push(buf);
    return original.call(this, req, buf);
  };
  const server = createServer({
    transport: 'handle',
    message: (conn, data, isBinary) => void conn.send(data, isBinary),
  });
  try {
    const { port } = await server.listen(0, '127.0.0.1');
    const client = await RawClient.open(port);
    for (const [i, text] of ['one', 'two', 'six'].entries()) {
      client.send(0x1, text);
      await client.frameCount(i + 1, 5_000);
      assert.equal(client.frames[i]!.payload.toString(), text, 'each echo carries its own bytes');
    }
    const echoes = parts.slice(-3);
    assert.equal(echoes.length, 3);
    assert.ok(echoes[1] === echoes[0] && echoes[2] === echoes[0], 'one view for the three echoes of 5 bytes');
    client.socket.destroy();
  } finally {
    proto.writeBuffer = original;
    await server.close({ timeoutMs: 500 });
  }
});
