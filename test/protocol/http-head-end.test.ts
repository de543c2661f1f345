import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import {
  DEFAULT_MAX_HEADER_SIZE,
  parseUpgradeRequest,
  type UpgradeRequest,
} from '../../src/protocol/upgrade-request.js';
import { isHeadTooLarge } from '../support/http-heads.js';
import { RFC_SAMPLE_REQUEST as REQUEST } from '../support/rfc-sample.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Count indexed reads, to show that incremental scanning is linear. */
function counting(buf: Uint8Array): { view: Uint8Array; reads: () => number } {
  let reads = 0;
  const view = new Proxy(buf, {
    get(target, prop) {
      if (typeof prop === 'string' && prop.length > 0 && prop.charCodeAt(0) >= 0x30 && prop.charCodeAt(0) <= 0x39)
        reads++;
      return Reflect.get(target, prop) as unknown;
    },
  });
  return { view, reads: () => reads };
}

test('RFC 7230 §3: findHeadEnd returns the index just past CRLFCRLF', () => {
  const buf = bytes(REQUEST);
  assert.equal(findHeadEnd(buf, 0, buf.length, 0), buf.length);
  assert.equal(findHeadEnd(buf, 0, buf.length - 1, 0), -1);
  assert.equal(findHeadEnd(bytes('\r\n\r\n'), 0, 4, 0), 4);
  assert.equal(findHeadEnd(bytes('\r\n\r'), 0, 3, 0), -1);
  assert.equal(findHeadEnd(bytes(''), 0, 0, 0), -1);
});

test('RFC 7230 §3: findHeadEnd ignores near misses (LFLF, CRCRLF, CRLFCR)', () => {
  for (const s of ['a\n\nb', 'a\r\r\n\nb', 'a\r\n\rb', 'a\n\r\n\rb', 'a\r\n \r\nb']) {
    const buf = bytes(s);
    assert.equal(findHeadEnd(buf, 0, buf.length, 0), -1, JSON.stringify(s));
  }
  const buf = bytes('x\r\r\n\r\n');
  assert.equal(findHeadEnd(buf, 0, buf.length, 0), buf.length);
});

test('RFC 7230 §3: findHeadEnd with the request fed one byte at a time finds the same end, in linear work', () => {
  const full = bytes(REQUEST);
  const { view, reads } = counting(full);
  let scanFrom = 0;
  let found = -1;
  for (let end = 1; end <= full.length; end++) {
    found = findHeadEnd(view, 0, end, scanFrom);
    if (found !== -1) {
      assert.equal(end, full.length, 'found only once the last byte arrived');
      break;
    }
    scanFrom = end;
  }
  assert.equal(found, full.length);
  // One read per new byte plus at most three back-checks; a rescan from the
  // start each time would cost about n²/2 ≈ 28,000 reads here.
  assert.ok(reads() <= 4 * full.length, `reads: ${reads()} for ${full.length} bytes`);
});

test('RFC 7230 §3: findHeadEnd with the terminator split at every position across two chunks', () => {
  const full = bytes(REQUEST);
  for (let cut = 1; cut < full.length; cut++) {
    const first = findHeadEnd(full, 0, cut, 0);
    assert.equal(first, -1, `cut ${cut}`);
    assert.equal(findHeadEnd(full, 0, full.length, cut), full.length, `cut ${cut}`);
  }
});

test('RFC 6455 §4.1: findHeadEnd stops exactly before frame bytes sent with the request', () => {
  // A masked text frame "Hi" sent right behind the request, in the same segment.
  const frame = [0x81, 0x82, 0x01, 0x02, 0x03, 0x04, 0x49, 0x6b];
  const buf = Buffer.concat([bytes(REQUEST), Buffer.from(frame), bytes('\r\n\r\n')]);
  const headEnd = findHeadEnd(buf, 0, buf.length, 0);
  assert.equal(headEnd, REQUEST.length);
  assert.deepEqual([...buf.subarray(headEnd, headEnd + frame.length)], frame);
  // The request parses from exactly that range; the frame bytes stay for the frame decoder.
  const r = parseUpgradeRequest(buf, 0, headEnd);
  assert.equal(r.ok, true);
  assert.equal((r as UpgradeRequest).protocols.length, 2);
});

test('RFC 6455 §4.2.1: a request arriving one byte at a time into a slab parses the same as all at once', () => {
  const full = bytes(REQUEST);
  const slab = Buffer.alloc(full.length + 64, 0x0d);
  const start = 32;
  let scanFrom = start;
  let headEnd = -1;
  let end = start;
  for (const byte of full) {
    slab[end++] = byte;
    headEnd = findHeadEnd(slab, start, end, scanFrom);
    if (headEnd !== -1) break;
    scanFrom = end;
  }
  assert.equal(headEnd, start + full.length);
  const oneByOne = parseUpgradeRequest(slab, start, headEnd) as UpgradeRequest;
  const atOnce = parseUpgradeRequest(full, 0, full.length) as UpgradeRequest;
  assert.equal(oneByOne.ok, true);
  assert.equal(atOnce.ok, true);
  assert.deepEqual([...oneByOne.headers], [...atOnce.headers]);
  assert.equal(oneByOne.key, 'dGhlIHNhbXBsZSBub25jZQ==');
});

test('RFC 7230 §3: findHeadEnd honours start and end inside a shared slab', () => {
  const slab = Buffer.alloc(4096, 0x41);
  slab.write('\r\n\r\n', 10, 'latin1'); // belongs to another connection, before `start`
  const start = 100;
  slab.write(REQUEST, start, 'latin1');
  const end = start + REQUEST.length;
  assert.equal(findHeadEnd(slab, start, end, start), end);
  // A terminator after `end` is not ours yet.
  slab.write('\r\n\r\n', 3000, 'latin1');
  assert.equal(findHeadEnd(slab, start, end - 1, start), -1);
  // scanFrom below start + 3 must not read before start.
  assert.equal(findHeadEnd(slab, 12, 14, 0), -1);
});

test('RFC 6585 §5: isHeadTooLarge once the bytes without a head end exceed the bound (431)', () => {
  assert.equal(DEFAULT_MAX_HEADER_SIZE, 8192);
  assert.equal(isHeadTooLarge(0, 8192), false);
  assert.equal(isHeadTooLarge(0, 8193), true);
  assert.equal(isHeadTooLarge(100, 8292), false);
  assert.equal(isHeadTooLarge(0, 1025, 1024), true);
  // The caller's loop: 9 KiB of header with no end yet.
  const big = bytes(`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(9 * 1024)}`);
  assert.equal(findHeadEnd(big, 0, big.length, 0), -1);
  assert.equal(isHeadTooLarge(0, big.length), true);
});
