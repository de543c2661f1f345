import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { requireRawBindings, type RawTcpHandle } from '../../src/transport/raw-bindings.js';
import { upgradeRequest } from '../support/fake-link.js';
import { echo, start } from '../support/servers.js';

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
