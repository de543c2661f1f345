import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { CodecOutput, deflateMessage, inflateMessage } from '../../src/compression/message-codec.js';
import { checkZlibInternals, ZlibContext } from '../../src/compression/zlib-context.js';
import { ErrorKind } from '../../src/protocol/protocol-error.js';
import { CountingLender } from '../support/receiver-harness.js';

const json = (n: number): Buffer =>
  Buffer.from(
    JSON.stringify(
      Array.from({ length: n }, (_, i) => ({ id: i, user: `user${i % 50}`, text: 'hello there, how are you?' })),
    ),
  );

test('the node:zlib internals lightws drives are there (the start-up check)', () => {
  assert.equal(checkZlibInternals(), undefined);
});

test('RFC 7692 §7.2.1: a message is compressed with a sync flush, its 00 00 FF FF tail removed; any inflater reads it', () => {
  const lender = new CountingLender();
  const ctx = ZlibContext.deflate({ windowBits: 15, memLevel: 8, level: 6 });
  const out = new CodecOutput();
  const input = json(400);
  assert.ok(deflateMessage(ctx, input, 0, input.length, lender, out));
  const packed = Buffer.from(out.buf!.subarray(0, out.length));
  lender.release(out.buf!);
  assert.ok(packed.length * 5 < input.length, `JSON shrinks at least 5×: ${input.length} → ${packed.length}`);
  assert.notDeepEqual([...packed.subarray(-4)], [0, 0, 0xff, 0xff]);
  assert.deepEqual(
    zlib.inflateRawSync(Buffer.concat([packed, Buffer.of(0, 0, 0xff, 0xff)]), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    }),
    input,
  );
  ctx.close();
  assert.equal(lender.out.size, 0);
});

test('RFC 7692 §7.2.2: inflating appends the tail; a shared context reset between messages reads each alone', () => {
  const lender = new CountingLender();
  const ctx = ZlibContext.inflate(15);
  const out = new CodecOutput();
  for (const message of [json(10), Buffer.from('x'), json(3000)]) {
    const packed = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    assert.equal(inflateMessage(ctx, packed, 0, packed.length, lender, 1 << 20, out), 0);
    assert.deepEqual(out.buf!.subarray(0, out.length), message);
    lender.release(out.buf!);
    ctx.reset();
  }
  // A sender that ends its message with BFINAL (Z_FINISH) is read too.
  const final = zlib.deflateRawSync(json(5));
  assert.equal(inflateMessage(ctx, final, 0, final.length, lender, 1 << 20, out), 0);
  assert.deepEqual(out.buf!.subarray(0, out.length), json(5));
  lender.release(out.buf!);
  ctx.close();
  assert.equal(lender.out.size, 0);
});

test('RFC 7692 §7.2.2 with maxMessageSize: a zip bomb stops at maxMessageSize + 1 bytes of output (1009)', () => {
  const lender = new CountingLender();
  const bomb = zlib.deflateRawSync(Buffer.alloc(64 << 20), { level: 9 }); // 64 MiB of zeros in ~64 KB
  assert.ok(bomb.length < 100_000);
  const ctx = ZlibContext.inflate(15);
  const out = new CodecOutput();
  let peak = 0;
  const tracking = {
    tryBorrow: (n: number) => lender.tryBorrow(n),
    tryGrow: (b: Buffer, u: number, n: number) => {
      peak = Math.max(peak, n);
      return lender.tryGrow(b, u, n);
    },
    release: (b: Buffer) => lender.release(b),
  };
  assert.equal(inflateMessage(ctx, bomb, 0, bomb.length, tracking, 1 << 20, out), ErrorKind.MessageTooBig);
  assert.ok(peak <= (1 << 20) + 1, `never more than maxMessageSize + 1 bytes of output: ${peak}`);
  assert.equal(out.buf, null);
  assert.equal(lender.out.size, 0);
  ctx.close();
});

test('RFC 7692 §7.2.2: a corrupt stream is refused (1007) and the context can be reset and used again', () => {
  const lender = new CountingLender();
  const ctx = ZlibContext.inflate(15);
  const out = new CodecOutput();
  for (const corrupt of [
    Buffer.of(0xff, 0xff, 0xff, 0xff),
    Buffer.of(0x06),
    Buffer.from('not deflate at all, just text'),
  ]) {
    assert.equal(
      inflateMessage(ctx, corrupt, 0, corrupt.length, lender, 1 << 20, out),
      ErrorKind.InvalidCompressedData,
      corrupt.toString('hex'),
    );
    ctx.reset();
  }
  const good = zlib.deflateRawSync(Buffer.from('fine'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.equal(inflateMessage(ctx, good, 0, good.length, lender, 1 << 20, out), 0);
  assert.equal(out.buf!.toString('utf8', 0, out.length), 'fine');
  lender.release(out.buf!);
  assert.equal(lender.out.size, 0);
  ctx.close();
});

test('the memory budget refusing a buffer: compression reports it, inflation fails with 1013, nothing leaks', () => {
  const lender = new CountingLender();
  lender.budget = 2048;
  const deflater = ZlibContext.deflate({ windowBits: 15, memLevel: 8, level: 0 }); // stored: output larger than 2 KiB
  const out = new CodecOutput();
  const input = Buffer.alloc(4096, 1);
  assert.equal(deflateMessage(deflater, input, 0, input.length, lender, out), false);
  const inflater = ZlibContext.inflate(15);
  const packed = zlib.deflateRawSync(Buffer.alloc(100_000), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.equal(
    inflateMessage(inflater, packed, 0, packed.length, lender, 1 << 20, out),
    ErrorKind.MemoryBudgetExceeded,
  );
  assert.equal(lender.out.size, 0);
  deflater.close();
  inflater.close();
});
