import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, SendResult } from '../../src/index.js';
import { requireRawBindings } from '../../src/transport/raw-bindings.js';
import { RawClient } from '../support/raw-client.js';

const BIG = 8 * 1024 * 1024;

/**
 * A write the kernel cannot take at once (a peer that does not read) must
 * complete asynchronously, and `drain` follow once the peer reads again: on
 * every Node version, with each write contract that version has.
 */
async function asyncWriteCompletes(): Promise<void> {
  let drained = 0;
  const server = createServer({
    transport: 'handle',
    maxBufferedBytes: 4 * BIG,
    message(conn) {
      assert.equal(conn.send(Buffer.alloc(BIG, 7)), SendResult.Queued);
      assert.ok(conn.bufferedAmount > 0);
    },
    drain() {
      drained++;
    },
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const client = await RawClient.open(port);
  client.socket.pause();
  client.send(0x1, 'go');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(drained, 0);
  assert.ok(server.stats().writingNow === 1 && server.stats().bufferedBytes > 0);
  client.socket.resume();
  await client.frameCount(1, 10_000);
  while (drained === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(client.frames[0]!.payload.length, BIG);
  assert.equal(server.stats().bufferedBytes, 0);
  assert.equal(server.stats().pool.lentBuffers, 0);
  client.socket.destroy();
  await server.close({ timeoutMs: 500 });
}

test('an async write completes and drains (our own write request)', asyncWriteCompletes);

// Node 24.22+ (nodejs/node#64455) also lets writeBuffer make the request itself and return it:
// take that road for every write, and the same must hold.
const lazyRequests =
  'kLastWriteErr' in (process as unknown as { binding: (n: string) => object }).binding('stream_wrap');
test(
  'an async write completes and drains when Node makes the write request itself',
  { skip: !lazyRequests && 'this Node always needs our request' },
  async () => {
    const proto = requireRawBindings().TCP.prototype as { writeBuffer: (req: unknown, buf: Uint8Array) => unknown };
    const original = proto.writeBuffer;
    let objects = 0;
    proto.writeBuffer = function (this: unknown, _req: unknown, buf: Uint8Array): unknown {
      const result = original.call(this, null, buf);
      if (typeof result === 'object') objects++;
      return result;
    };
    try {
      await asyncWriteCompletes();
    } finally {
      proto.writeBuffer = original;
    }
    assert.ok(objects > 0, 'no write went async through a request Node made');
  },
);
