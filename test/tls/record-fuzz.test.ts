import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertDescription } from '../../src/tls/alert.js';
import {
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
} from '../../src/tls/cipher-suite.js';
import { prng } from '../support/prng.js';
import { layerPair } from './layer-pair.js';

/**
 * The record layer against a hostile stream: a client layer seals a random
 * run of records (data, KeyUpdates), one mutation is applied to the wire,
 * and the server layer is fed the result in random slices. The layer must
 * never throw, must deliver exactly a prefix of what was sent, and must end
 * with the alert the mutation calls for.
 */
const SUITES = [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256];
const MUTATIONS = ['none', 'corrupt', 'truncate', 'reorder', 'replay', 'drop', 'oversize', 'plaintext'] as const;
type Mutation = (typeof MUTATIONS)[number];

/** The alert each mutation must end with (undefined: no end, the stream is just incomplete or intact). */
const EXPECTED: Record<Mutation, number | undefined> = {
  none: undefined,
  truncate: undefined,
  corrupt: AlertDescription.bad_record_mac,
  reorder: AlertDescription.bad_record_mac,
  replay: AlertDescription.bad_record_mac,
  drop: AlertDescription.bad_record_mac,
  oversize: AlertDescription.record_overflow,
  plaintext: AlertDescription.unexpected_message,
};

function runCase(seed: number, mutation: Mutation): void {
  const random = prng(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const suite = SUITES[int(SUITES.length)]!;
  const secret = (b: number): Buffer => Buffer.alloc(suite.hashLength, b);
  const { server, client, atServer } = layerPair(suite, secret(seed & 0xff), secret(7), {
    client: int(3),
    server: int(3),
  });
  const records: Buffer[] = [];
  const sent: Buffer[] = [];
  const count = 2 + int(6);
  for (let i = 0; i < count; i++) {
    if (random() < 0.2) {
      records.push(client.updateWriteKeys(false));
      continue;
    }
    const data = Buffer.alloc(random() < 0.1 ? 16384 + int(5000) : int(300), i + 1);
    const wire = client.seal(data);
    sent.push(data);
    // seal may give several records at once; keep them as one unit (they can only be cut apart by the mutation).
    records.push(wire);
  }
  const k = int(records.length);
  switch (mutation) {
    case 'corrupt': {
      const r = Buffer.from(records[k]!);
      r[5 + int(r.length - 5)]! ^= 1 + int(255);
      records[k] = r;
      break;
    }
    case 'truncate':
      records[k] = records[k]!.subarray(0, Math.max(1, int(records[k]!.length)));
      records.length = k + 1;
      break;
    case 'reorder':
      if (k + 1 < records.length) [records[k], records[k + 1]] = [records[k + 1]!, records[k]!];
      else records.splice(k, 0, records[k]!);
      break;
    case 'replay':
      records.splice(k + 1, 0, records[k]!);
      break;
    case 'drop':
      records.splice(k, 1);
      records.push(client.seal(Buffer.from('after the gap')));
      break;
    case 'oversize': {
      const header = Buffer.of(23, 3, 3, 0, 0);
      header.writeUInt16BE(16641 + int(65535 - 16641), 3);
      records.splice(k, records.length, header, Buffer.alloc(int(100)));
      break;
    }
    case 'plaintext':
      records.splice(k, records.length, Buffer.of([20, 21, 22][int(3)]!, 3, 3, 0, 1, 1));
      break;
    case 'none':
      break;
  }
  const wire = Buffer.concat(records);
  for (let at = 0; at < wire.length;) {
    const step = 1 + int(random() < 0.5 ? 40 : 20000);
    server.receive(wire.subarray(at, at + step));
    at += step;
  }
  const got = Buffer.concat(atServer.received);
  const all = Buffer.concat(sent);
  assert.ok(
    all.subarray(0, got.length).equals(got),
    `seed ${seed} ${mutation}: delivered data is not a prefix of what was sent`,
  );
  const alert = atServer.ended?.fault?.alert;
  // 'reorder', 'replay' and 'drop' on a KeyUpdate or at the end can be indistinguishable from
  // a stream that is merely different; they must still end in bad_record_mac or deliver nothing wrong.
  if (mutation === 'none') {
    assert.equal(alert, undefined, `seed ${seed}`);
    assert.ok(got.equals(all));
  } else if (mutation === 'truncate') {
    assert.equal(atServer.ended, undefined, `seed ${seed}: a truncated stream just waits`);
  } else {
    assert.equal(alert, EXPECTED[mutation], `seed ${seed} ${mutation}`);
    assert.equal(server.isOpen, false);
    assert.equal(atServer.transmitted.length, 1, 'exactly one alert record sent');
  }
}

test('fuzz: corrupted, truncated, reordered, replayed, dropped, oversized and plaintext records', () => {
  for (let seed = 1; seed <= 1200; seed++) {
    const mutation = MUTATIONS[seed % MUTATIONS.length]!;
    assert.doesNotThrow(() => runCase(seed, mutation), `seed ${seed} ${mutation}`);
  }
});

test('fuzz: random bytes after a valid prefix never throw and end in an alert or wait', () => {
  const random = prng(99);
  for (let i = 0; i < 2000; i++) {
    const { server, client, atServer } = layerPair(TLS_AES_128_GCM_SHA256, Buffer.alloc(32, 1), Buffer.alloc(32, 2));
    server.receive(client.seal(Buffer.from('prefix')));
    const junk = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
    if (random() < 0.5) junk[0] = 23;
    server.receive(junk);
    assert.equal(atServer.text, 'prefix');
    const alert = atServer.ended?.fault?.alert;
    if (alert !== undefined) {
      assert.ok(
        [
          AlertDescription.bad_record_mac,
          AlertDescription.record_overflow,
          AlertDescription.unexpected_message,
        ].includes(alert as 20),
        `alert ${alert}`,
      );
    }
  }
});
