import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import zlib from 'node:zlib';
import { inflateContextBytes } from '../../src/compression/deflate-budget.js';
import { DeflateEngine, type DeflateSettings } from '../../src/compression/deflate-engine.js';
import type { DeflateSession, DeflateSessionSnapshot } from '../../src/compression/deflate-session.js';
import { CodecOutput } from '../../src/compression/message-codec.js';
import { ErrorKind } from '../../src/protocol/protocol-error.js';
import { Compressor } from '../support/deflate.js';
import { prng } from '../support/prng.js';
import { CountingLender } from '../support/receiver-harness.js';

const settings = (more: Partial<DeflateSettings> = {}): DeflateSettings => ({
  mode: 'window',
  windowBits: 12,
  memLevel: 8,
  level: 6,
  maxBytes: 1 << 24,
  maxMessageSize: 1 << 20,
  keepReceiveWindow: true,
  ...more,
});

/** Random text that comes back: message i is pieces i and i+1 (of 5, in turn), so each refers back into the one before. */
function messages(seed: number, count: number): Buffer[] {
  const random = prng(seed);
  const pieces = Array.from({ length: 5 }, () =>
    Buffer.from(Array.from({ length: 700 }, () => 33 + Math.floor(random() * 90))),
  );
  return Array.from({ length: count }, (_, i) =>
    Buffer.concat([Buffer.from(`#${i} `), pieces[i % 5]!, pieces[(i + 1) % 5]!]),
  );
}

/** One message into `session` through `engine`: its bytes, or the error kind. */
function receive(engine: DeflateEngine, session: DeflateSession, payload: Buffer): Buffer | number {
  const lender = new CountingLender();
  const out = new CodecOutput();
  const error = engine.inflate(session, payload, 0, payload.length, lender, out);
  if (error !== 0) return error;
  const bytes = Buffer.from(out.buf!.subarray(0, out.length));
  lender.release(out.buf!);
  return bytes;
}

test("a server's window session keeps the last 2^bits bytes it inflated, reserved with its contexts; a client's keeps none", () => {
  const server = new DeflateEngine(settings());
  const client = new DeflateEngine(settings({ keepReceiveWindow: false }));
  const kept = server.session(false, 12, false, 12) as DeflateSession;
  const plain = client.session(false, 12, false, 12) as DeflateSession;
  assert.equal(kept.reservedBytes - plain.reservedBytes, 1 << 12, 'the window copy is budgeted');
  const receiveOnly = server.session(true, 15, false, 10) as DeflateSession;
  assert.equal(receiveOnly.reservedBytes, inflateContextBytes(10) + (1 << 10));
  assert.equal(kept.receiveWindow, null, 'nothing until the first message');
  const sent = messages(1, 12);
  const compressor = new Compressor(12);
  for (const message of sent) {
    const payload = compressor.compress(message);
    assert.deepEqual(receive(server, kept, payload), message);
  }
  compressor.close();
  const all = Buffer.concat(sent);
  assert.deepEqual(Buffer.from(kept.receiveWindow!.bytes()), all.subarray(all.length - (1 << 12)));
  const other = new Compressor(12);
  receive(client, plain, other.compress(sent[0]!));
  other.close();
  assert.equal(plain.receiveWindow, null);
  for (const [engine, session] of [
    [server, kept],
    [server, receiveOnly],
    [client, plain],
  ] as const)
    engine.release(session);
  assert.deepEqual([server.budget.reserved, server.contexts, client.budget.reserved], [0, 0, 0]);
});

test('a session a handover carried goes on in another engine: its inflater starts primed with the window, its compressor fresh', () => {
  const old = new DeflateEngine(settings());
  const session = old.session(false, 12, false, 12) as DeflateSession;
  const sent = messages(2, 30);
  const compressor = new Compressor(12);
  const payloads = sent.map((m) => compressor.compress(m));
  compressor.close();
  for (let i = 0; i < 15; i++) assert.deepEqual(receive(old, session, payloads[i]!), sent[i]);
  const saved = deserialize(serialize(old.snapshot(session))) as DeflateSessionSnapshot;
  old.release(session);
  assert.deepEqual([old.budget.reserved, old.contexts], [0, 0]);
  assert.deepEqual([saved.sendBits, saved.receiveBits, saved.window.length], [12, 12, 1 << 12]);

  const next = new DeflateEngine(settings());
  const moved = next.adopt(saved)!;
  assert.equal(next.budget.reserved, moved.reservedBytes);
  assert.equal(moved.reservedBytes, session.reservedBytes);
  for (let i = 15; i < 30; i++) assert.deepEqual(receive(next, moved, payloads[i]!), sent[i], `message ${i}`);
  assert.equal(moved.receiveContext!.primed, true);
  // The control: a session adopted without its window cannot read what refers back past the move.
  const blank = next.adopt({ ...saved, window: new Uint8Array(0) })!;
  assert.equal(receive(next, blank, payloads[15]!), ErrorKind.InvalidCompressedData);
  next.release(blank);
  // Sending: a compressor of its own, made at the first message, that any peer inflater reads on from.
  const out = new CodecOutput();
  const lender = new CountingLender();
  assert.ok(next.deflate(moved, 12, sent[0]!, 0, sent[0]!.length, lender, out));
  assert.notEqual(moved.sendContext, null);
  lender.release(out.buf!);
  next.release(moved);
  assert.deepEqual([next.budget.reserved, next.contexts], [0, 0]);
});

test("adopt: refused (and counted) when the budget cannot take the session's memory, or the snapshot does not hold", () => {
  const old = new DeflateEngine(settings());
  const session = old.session(false, 12, false, 12) as DeflateSession;
  const saved = old.snapshot(session);
  const tight = new DeflateEngine(settings({ maxBytes: session.reservedBytes - 1 }));
  assert.equal(tight.adopt(saved), null);
  assert.deepEqual([tight.budget.declined, tight.budget.reserved], [1, 0]);
  const roomy = new DeflateEngine(settings());
  assert.equal(roomy.adopt({ ...saved, receiveBits: 8 }), null, 'no zlib window of 8 bits');
  assert.equal(roomy.adopt({ sendBits: 0, receiveBits: 0, window: new Uint8Array(0) }), null, 'no session to make');
  assert.equal(roomy.adopt({ ...saved, window: new Uint8Array((1 << 12) + 1) }), null, 'a window larger than its bits');
  assert.equal(roomy.budget.reserved, 0);
  old.release(session);
});

test("a peer that ends its stream (BFINAL) empties the window, zlib's and the copy: a primed inflater makes way for a fresh one", () => {
  const old = new DeflateEngine(settings());
  const session = old.session(false, 12, false, 12) as DeflateSession;
  const sent = messages(3, 4);
  const compressor = new Compressor(12);
  const payloads = sent.map((m) => compressor.compress(m));
  compressor.close();
  for (let i = 0; i < 2; i++) receive(old, session, payloads[i]!);
  const next = new DeflateEngine(settings());
  const moved = next.adopt(old.snapshot(session))!;
  old.release(session);
  assert.deepEqual(receive(next, moved, payloads[2]!), sent[2]);
  // A message compressed on its own and finished with BFINAL: the stream ends there.
  const ended = zlib.deflateRawSync(Buffer.from('the end of a stream'));
  assert.equal(String(receive(next, moved, ended)), 'the end of a stream');
  assert.equal(moved.receiveWindow!.length, 0);
  assert.equal(
    moved.receiveContext,
    null,
    'the primed context, which a reset would give its dictionary again, is gone',
  );
  // What follows starts from nothing: a reference back into the old window is corrupt data now.
  assert.equal(receive(next, moved, payloads[3]!), ErrorKind.InvalidCompressedData);
  next.release(moved);
  assert.deepEqual([next.budget.reserved, next.contexts], [0, 0]);
});
