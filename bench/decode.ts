/**
 * Frame decoding throughput: lightws's receiver (header decode, in-place unmask, UTF-8 check,
 * dispatch) against ws's Receiver on the same bytes.
 *
 *   npm run bench:decode            (QUICK=1 for a faster, rougher run)
 *
 * A read slab of the reactor's default size (64 KiB + 14 B) is filled with masked client frames of one size and decoded whole, as the
 * reactor does after a read, again and again in place. Each pass flips the payloads between masked
 * and plain: the key 0x21212121 has every byte below 0x80, so ASCII text stays ASCII (valid UTF-8)
 * either way. (A zero key would not do: ws skips unmasking when the key is all zeros.)
 * ws runs with whatever it finds installed (bufferutil and utf-8-validate are devDependencies
 * here, so ws gets its native helpers: its best case).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { benchArgs } from './lib/args.js';
import type { ReceiveProgress } from '../src/protocol/receive-progress.js';
import { receive, type ReceiverConfig, type ReceiverSink } from '../src/protocol/receiver.js';
import { BufferPool } from '../src/pool/buffer-pool.js';
import { DEFAULTS } from '../src/api/options.js';
import { encodeClientFrame } from '../test/support/frames.js';
import { formatRatio, printTable } from './lib/format.js';
import { compare } from './lib/measure.js';
import { RESULTS_OPTIONS, writeResults } from './lib/results.js';

const { values: args } = benchArgs(import.meta.url, { options: RESULTS_OPTIONS });
const quick = process.env['QUICK'] === '1';
const options = quick ? { minTimeMs: 50, runs: 5 } : { minTimeMs: 200, runs: 9 };
const require = createRequire(import.meta.url);
const WsReceiver = require(join(dirname(require.resolve('ws')), 'lib', 'receiver.js')) as new (options: object) => {
  on(event: 'message', listener: () => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  write(chunk: Buffer): boolean;
};

/** A slab holding as many whole frames of `size` as fit in the reactor's default slab (at least one). */
function slabOf(size: number, text: boolean): { slab: Buffer; frames: number } {
  const payload = text ? Buffer.from('x'.repeat(size)) : Buffer.alloc(size, 0x5a);
  const frame = encodeClientFrame(text ? 1 : 2, payload, 0x21212121);
  const frames = Math.max(1, Math.floor(DEFAULTS.readSlabSize / frame.length));
  return { slab: Buffer.concat(Array.from({ length: frames }, () => frame)), frames };
}

class Conn {
  receiving = true;
  progress: ReceiveProgress | null = null;
  messages = 0;
}
const sink: ReceiverSink<Conn> = {
  onMessage(conn) {
    conn.messages++;
  },
  onPing() {},
  onPong() {},
  onClose() {},
  onError(_conn, kind) {
    throw new Error(`unexpected protocol error ${kind}`);
  },
};
const config: ReceiverConfig = {
  expectMasked: true,
  allowedRsv: 0,
  maxPayloadLength: 1 << 26,
  minFragmentSize: 16,
  lender: new BufferPool(),
};

const cases: [string, number, boolean][] = [
  ['text 16 B', 16, true],
  ['text 125 B', 125, true],
  ['binary 1 KiB', 1024, false],
  ['binary 16 KiB', 16384, false],
  ['binary 1 MiB', 1 << 20, false],
];

const rows: (string | number)[][] = [];
const results: Record<string, unknown>[] = [];
for (const [name, size, text] of cases) {
  const { slab, frames } = slabOf(size, text);
  const conn = new Conn();
  const ws = new WsReceiver({ isServer: true, maxPayload: 1 << 26, binaryType: 'nodebuffer' });
  let wsMessages = 0;
  ws.on('message', () => {
    wsMessages++;
  });
  ws.on('error', (error) => {
    throw error;
  });
  // Both must decode every frame of the slab synchronously, or the comparison is void.
  receive(conn, slab, 0, slab.length, config, sink);
  ws.write(slab);
  if (conn.messages !== frames || wsMessages !== frames)
    throw new Error(`${name}: decoded ${conn.messages} / ws ${wsMessages} of ${frames}`);
  const measured = compare(
    {
      lightws: () => receive(conn, slab, 0, slab.length, config, sink),
      ws: () => ws.write(slab),
    },
    options,
  );
  const ours = measured['lightws']!.opsPerSec * frames;
  const theirs = measured['ws']!.opsPerSec * frames;
  rows.push([
    name,
    (ours / 1e6).toFixed(2),
    ((ours * size) / 1e9).toFixed(2),
    (theirs / 1e6).toFixed(2),
    formatRatio(ours / theirs),
  ]);
  results.push({
    case: name,
    payloadBytes: size,
    framesPerSlab: frames,
    lightwsFramesPerSec: ours,
    wsFramesPerSec: theirs,
    ratio: ours / theirs,
    spread: { lightws: measured['lightws']!.spread, ws: measured['ws']!.spread },
  });
}
printTable(['frames', 'lightws Mframes/s', 'lightws GB/s', 'ws Mframes/s', 'lightws / ws'], rows);

// What fragmentation costs: one 4 MiB text message as one frame, and as 64 B fragments (65,536
// frames, Autobahn 9.3.1's worst case), decoded from one buffer each pass. The fragmented
// message is gathered into a pooled buffer; the single frame is delivered where it lies.
const MESSAGE = 4 << 20;
const messageRows: (string | number)[][] = [];
const fragmentation: Record<string, unknown>[] = [];
for (const fragment of [MESSAGE, 4096, 64]) {
  const count = MESSAGE / fragment;
  const piece = Buffer.from('x'.repeat(fragment));
  const wire = Buffer.concat(
    Array.from({ length: count }, (_, i) => encodeClientFrame(i === 0 ? 1 : 0, piece, 0x21212121, i === count - 1)),
  );
  const conn = new Conn();
  const ws = new WsReceiver({ isServer: true, maxPayload: 1 << 26, binaryType: 'nodebuffer' });
  let wsMessages = 0;
  ws.on('message', () => {
    wsMessages++;
  });
  ws.on('error', (error) => {
    throw error;
  });
  receive(conn, wire, 0, wire.length, config, sink);
  ws.write(wire);
  if (conn.messages !== 1 || wsMessages !== 1)
    throw new Error(`fragments of ${fragment}: decoded ${conn.messages} / ws ${wsMessages}`);
  const measured = compare(
    {
      lightws: () => receive(conn, wire, 0, wire.length, config, sink),
      ws: () => ws.write(wire),
    },
    { minTimeMs: options.minTimeMs * 2, runs: options.runs },
  );
  const ours = measured['lightws']!.opsPerSec;
  const theirs = measured['ws']!.opsPerSec;
  const name = fragment === MESSAGE ? '4 MiB, 1 frame' : `4 MiB, ${count} × ${fragment} B`;
  messageRows.push([
    name,
    (1e9 / ours / MESSAGE).toFixed(3),
    (1e9 / ours / count).toFixed(0),
    (1e9 / theirs / MESSAGE).toFixed(3),
    formatRatio(ours / theirs),
  ]);
  fragmentation.push({
    case: name,
    fragmentBytes: fragment,
    frames: count,
    lightwsMessagesPerSec: ours,
    wsMessagesPerSec: theirs,
    lightwsNsPerByte: 1e9 / ours / MESSAGE,
    spread: { lightws: measured['lightws']!.spread, ws: measured['ws']!.spread },
  });
}
console.log('');
printTable(['message', 'lightws ns/B', 'lightws ns/frame', 'ws ns/B', 'lightws / ws'], messageRows);
console.log(`\nresults in ${writeResults('decode', { benchmark: 'decode', options, results, fragmentation }, args)}`);
