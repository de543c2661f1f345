import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../../src/index.js';
import { requireRawBindings } from '../../src/transport/raw-bindings.js';
import { RawClient } from '../support/raw-client.js';

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
