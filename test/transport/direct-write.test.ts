import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendResult } from '../../src/index.js';
import type { Writer } from '../../src/reactor/write/writer.js';
import { DIRECT_WRITE_MIN } from '../../src/reactor/write/writer.js';
import { RawClient } from '../support/raw-client.js';
import { start, TRANSPORTS, until } from '../support/servers.js';

/** The writer of a server, for its counters of direct writes. */
const writerOf = (server: object): Writer => (server as { reactor: { writer: Writer } }).reactor.writer;

/** A payload whose every byte says where it is: a misplaced or stale byte cannot go unseen. */
function pattern(length: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return buf;
}

for (const transport of TRANSPORTS) {
  test(`${transport}: a large message goes out from the caller's buffer; what the kernel does not take is copied before send returns`, async (t) => {
    const sizes = [DIRECT_WRITE_MIN, 200_000, 8 * 1024 * 1024];
    const sent: Buffer[] = [];
    const results: SendResult[] = [];
    const { server, port, errors } = await start(transport, {
      maxBufferedBytes: 64 * 1024 * 1024,
      message(conn) {
        for (const [i, size] of sizes.entries()) {
          const payload = pattern(size, i);
          sent.push(Buffer.from(payload));
          results.push(conn.send(payload));
          payload.fill(0xee); // the caller's buffer is theirs again: nothing of this may reach the peer
        }
      },
    });
    t.after(() => server.close({ timeoutMs: 500 }));
    const writer = writerOf(server);
    const client = await RawClient.open(port);
    t.after(() => client.socket.destroy());
    client.socket.pause(); // the peer does not read: the 8 MiB cannot fit in the socket buffers
    client.send(0x2, 'go');
    await until(() => results.length === sizes.length);
    assert.equal(results[0], SendResult.Written, 'the first went whole to the kernel');
    assert.equal(results[2], SendResult.Queued, 'the 8 MiB did not: its rest waits, copied');
    assert.ok(writer.framesDirect >= 2, `direct writes: ${writer.framesDirect}`);
    assert.ok(
      writer.bytesDirect > DIRECT_WRITE_MIN && writer.bytesDirect < sizes.reduce((a, b) => a + b),
      `partly direct: ${writer.bytesDirect} B`,
    );
    client.socket.resume();
    await client.frameCount(sizes.length, 20_000);
    for (const [i, frame] of client.frames.entries()) {
      assert.equal(frame.payload.length, sizes[i]);
      assert.ok(frame.payload.equals(sent[i]!), `message ${i} arrived intact`);
    }
    await until(() => server.stats().bufferedBytes === 0 && server.stats().pool.lentBuffers === 0);
    assert.deepEqual(errors, []);
  });

  test(`${transport}: a large message sent while a write is in flight is queued behind it, in order, and copied`, async (t) => {
    const sent: Buffer[] = [];
    const results: SendResult[] = [];
    const { server, port } = await start(transport, {
      maxBufferedBytes: 64 * 1024 * 1024,
      message(conn) {
        for (let i = 0; i < 6; i++) {
          const payload = pattern(3 * 1024 * 1024, 10 + i);
          sent.push(Buffer.from(payload));
          results.push(conn.send(payload));
          payload.fill(0);
        }
      },
    });
    t.after(() => server.close({ timeoutMs: 500 }));
    const client = await RawClient.open(port);
    t.after(() => client.socket.destroy());
    client.socket.pause();
    client.send(0x2, 'go');
    await until(() => sent.length === 6);
    const direct = writerOf(server).framesDirect;
    assert.ok(direct >= 1 && direct < 6, `the first went direct, the last found a write in flight (${direct} direct)`);
    assert.equal(results[5], SendResult.Queued);
    client.socket.resume();
    await client.frameCount(6, 20_000);
    assert.deepEqual(
      client.frames.map((f, i) => f.payload.equals(sent[i]!)),
      [true, true, true, true, true, true],
    );
  });
}

for (const transport of TRANSPORTS) {
  test(`${transport}: a direct write to a peer that reset fails that connection (1006) and throws nothing`, async () => {
    let held: { send(data: Buffer): SendResult; pause(): void } | undefined;
    const closes: number[] = [];
    const { server, port, errors } = await start(transport, {
      message(conn) {
        conn.pause(); // read nothing more: the reset is found by the write
        held = conn;
      },
      close(_conn, code) {
        closes.push(code);
      },
    });
    const client = await RawClient.open(port);
    client.send(0x2, 'go');
    await until(() => held !== undefined);
    client.socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = writerOf(server).framesDirect;
    assert.equal(held!.send(pattern(1 << 20, 1)), SendResult.Dropped);
    assert.equal(writerOf(server).framesDirect, before, 'nothing was written');
    await until(() => closes.length === 1);
    assert.deepEqual(closes, [1006]);
    assert.deepEqual(errors, []);
    assert.equal(server.stats().pool.lentBuffers, 0);
    await server.close({ timeoutMs: 500 });
  });
}
