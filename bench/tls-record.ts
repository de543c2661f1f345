/**
 * What one TLS 1.3 record costs the compact record layer (issue #23), in process: the floor that
 * node:crypto sets (a fresh cipher per record: createCipheriv + setAAD + update + final +
 * getAuthTag to seal, the same with setAuthTag to open), and the record layer's whole seal and
 * open (src/tls/record-layer.ts) on the echo pattern of bench:idle-tls --cpu: one record in
 * (16 masked 32-byte frames), one record out (16 replies), AES-128-GCM.
 *
 *   node dist/bench/tls-record.js [--records 50000] [--runs 5] [--frames 16] [--publish]
 *
 * CPU time (process.cpuUsage, user + system) per record, median of --runs runs of --records
 * records each, after a warm-up. OpenSSL inside a TLS library keeps one cipher context per
 * direction and only sets the next nonce; node:crypto has no such call, so every record pays for
 * a new context: this is the part of an echo over the compact layer that JavaScript on Node's
 * public surface cannot cut. Compare it with a server's whole CPU per echo (bench:idle-tls --cpu).
 * Results: bench/out/tls-record.json (--publish: bench/results/, see lib/results.ts).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { benchArgs } from './lib/args.js';
import { printTable } from './lib/format.js';
import { RESULTS_OPTIONS, writeResults } from './lib/results.js';
import { TLS_AES_128_GCM_SHA256 } from '../src/tls/cipher-suite.js';
import { RecordLayer, type RecordLayerSink } from '../src/tls/record-layer.js';

const { values: args } = benchArgs(import.meta.url, {
  options: {
    ...RESULTS_OPTIONS,
    records: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '5' },
    frames: { type: 'string', default: '16' },
  },
});
const RECORDS = Number(args.records);
const RUNS = Number(args.runs);
const FRAMES = Number(args.frames);
const IN = Buffer.alloc(FRAMES * (6 + 32), 0x61); // masked client frames
const OUT = Buffer.alloc(FRAMES * (2 + 32), 0x62); // the server's replies
const HEADER = Buffer.of(23, 3, 3, 0, 0);
const key = randomBytes(16);
const nonce = randomBytes(12);

/** Median CPU µs per call of `f` over RUNS runs of RECORDS calls. */
function cpuPerCall(f: (i: number) => void): number {
  for (let i = 0; i < Math.min(RECORDS, 5000); i++) f(i);
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < RECORDS; i++) f(i);
    const used = process.cpuUsage(before);
    runs.push((used.user + used.system) / RECORDS);
  }
  return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
}

function seal(plaintext: Buffer): [Buffer, Buffer] {
  const cipher = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
  cipher.setAAD(HEADER);
  const out = cipher.update(plaintext);
  cipher.final();
  return [out, cipher.getAuthTag()];
}
const [sealedIn, tagIn] = seal(Buffer.concat([IN, Buffer.of(23)]));

const rows: [string, number][] = [];
rows.push(['createCipheriv alone', cpuPerCall(() => createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 }))]);
rows.push([`node:crypto seal, ${OUT.length + 1} B`, cpuPerCall(() => seal(Buffer.concat([OUT, Buffer.of(23)])))]);
rows.push([
  `node:crypto open, ${IN.length + 1} B`,
  cpuPerCall(() => {
    const decipher = createDecipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
    decipher.setAAD(HEADER);
    decipher.setAuthTag(tagIn);
    decipher.update(sealedIn);
    decipher.final();
  }),
]);

// A client and a server layer over matching secrets; the client's records are sealed ahead.
const a = randomBytes(32);
const b = randomBytes(32);
const quiet: RecordLayerSink = { data() {}, transmit() {}, end() {} };
const server = new RecordLayer(TLS_AES_128_GCM_SHA256, 'server', { secret: a, seq: 0 }, { secret: b, seq: 0 }, quiet);
const client = new RecordLayer(TLS_AES_128_GCM_SHA256, 'client', { secret: b, seq: 0 }, { secret: a, seq: 0 }, quiet);
const total = Math.min(RECORDS, 5000) + RUNS * RECORDS;
const incoming = Array.from({ length: total }, () => client.seal(IN));
const slab = Buffer.alloc(65536);
let next = 0;
rows.push([
  'record layer: receive one record (into the read slab)',
  cpuPerCall(() => {
    const record = incoming[next++]!;
    record.copy(slab);
    server.receive(slab.subarray(0, record.length));
  }),
]);
rows.push(['record layer: seal one record', cpuPerCall(() => server.seal(OUT))]);

const [, sealCost] = rows[1]!;
const [, openCost] = rows[2]!;
const [, layerIn] = rows[3]!;
const [, layerOut] = rows[4]!;
console.log(
  `Per record, AES-128-GCM, ${FRAMES} echoes a record; CPU µs, median of ${RUNS} × ${RECORDS}, Node ${process.version}, OpenSSL ${process.versions.openssl}.\n`,
);
printTable(
  ['', 'µs per record', `µs per echo (÷ ${FRAMES})`],
  rows.map(([name, us]) => [name, us.toFixed(2), (us / FRAMES).toFixed(3)]),
);
console.log(
  `\nnode:crypto floor for one echo record pair: ${(sealCost + openCost).toFixed(2)} µs; the record layer's: ${(layerIn + layerOut).toFixed(2)} µs`,
);
const written = writeResults(
  'tls-record',
  {
    config: {
      records: RECORDS,
      runs: RUNS,
      frames: FRAMES,
      inBytes: IN.length,
      outBytes: OUT.length,
      aead: 'aes-128-gcm',
    },
    openssl: process.versions.openssl,
    unit: 'CPU µs per record (process.cpuUsage), median of runs',
    perRecordUs: Object.fromEntries(rows),
    floorPairUs: sealCost + openCost,
    layerPairUs: layerIn + layerOut,
  },
  args,
);
console.log(`results in ${written}`);
server.release();
client.release();
