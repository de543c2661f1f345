import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_HEADER_SIZE,
  findHeadEnd,
  isHeadTooLarge,
  isToken,
  listContainsToken,
  parseRequestHead,
  parseResponseHead,
  type ParsedRequestHead,
  type ParsedResponseHead,
} from '../../src/protocol/http-head.js';
import { parseUpgradeRequest, type UpgradeRequest } from '../../src/protocol/upgrade-request.js';
import { prng } from '../support/prng.js';
import { RFC_SAMPLE_REQUEST as REQUEST } from '../support/rfc-sample.js';


const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function request(head: string): ParsedRequestHead {
  const buf = bytes(head);
  const r = parseRequestHead(buf, 0, buf.length);
  assert.equal(r.ok, true, r.ok ? '' : r.message);
  return r as ParsedRequestHead;
}

function requestFailure(head: string): { status: number; message: string } {
  const buf = bytes(head);
  const r = parseRequestHead(buf, 0, buf.length);
  assert.equal(r.ok, false, 'expected a failure');
  return r as { status: number; message: string };
}

/** Count indexed reads, to show that incremental scanning is linear. */
function counting(buf: Uint8Array): { view: Uint8Array; reads: () => number } {
  let reads = 0;
  const view = new Proxy(buf, {
    get(target, prop) {
      if (typeof prop === 'string' && prop.length > 0 && prop.charCodeAt(0) >= 0x30 && prop.charCodeAt(0) <= 0x39) reads++;
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

test('RFC 7230 §3.1.1: request line split into method, target and version', () => {
  const r = request(REQUEST);
  assert.equal(r.method, 'GET');
  assert.equal(r.target, '/chat');
  assert.equal(r.httpVersion, '1.1');
  assert.equal(r.versionMajor, 1);
  assert.equal(r.versionMinor, 1);
});

test('RFC 7230 §3.1.1: malformed request lines → 400', () => {
  for (const line of ['GET  /chat HTTP/1.1', 'GET /chat  HTTP/1.1', 'GET /chat', 'GET', '/chat HTTP/1.1', 'GET /chat HTTP/1.1 ', 'GET /ch\x01at HTTP/1.1', 'GET /ch\xe9t HTTP/1.1', 'G(T /chat HTTP/1.1', 'GET /chat http/1.1', 'GET /chat HTTP/1', 'GET /chat HTTP/11.1', '']) {
    assert.equal(requestFailure(`${line}\r\nHost: a\r\n\r\n`).status, 400, JSON.stringify(line));
  }
});

test('RFC 7230 §2.6: HTTP major version other than 1 → 505; 1.0 parses (the upgrade check refuses it)', () => {
  assert.equal(requestFailure('GET / HTTP/2.0\r\nHost: a\r\n\r\n').status, 505);
  assert.equal(requestFailure('GET / HTTP/0.9\r\nHost: a\r\n\r\n').status, 505);
  const r = request('GET / HTTP/1.0\r\nHost: a\r\n\r\n');
  assert.equal(r.httpVersion, '1.0');
});

test('RFC 7230 §3.2: header names lower-cased, OWS trimmed, repeats joined with ", "', () => {
  const r = request('GET / HTTP/1.1\r\nHost:a\r\nX-Thing: \t one \t\r\nx-thing: two\r\nX-Empty:\r\nX-Inner:  a  b  \r\n\r\n');
  assert.deepEqual([...r.headers], [
    ['host', 'a'],
    ['x-thing', 'one, two'],
    ['x-empty', ''],
    ['x-inner', 'a  b'],
  ]);
});

test('RFC 7230 §3.2.4: header values are latin1; obs-text is kept as is', () => {
  const r = request('GET / HTTP/1.1\r\nX-Name: caf\xe9 \xff\r\n\r\n');
  assert.equal(r.headers.get('x-name'), 'caf\u00e9 \u00ff');
});

test('RFC 7230 §3.2.2: singleton fields repeated → 400', () => {
  const buf = bytes('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
  const r = parseRequestHead(buf, 0, buf.length, new Set(['host']));
  assert.equal(r.ok, false);
  assert.equal((r as { status: number }).status, 400);
  assert.match((r as { message: string }).message, /repeated host/);
});

test('RFC 7230 §3.5: bare LF, bare CR → 400 (only CRLF line endings are accepted)', () => {
  assert.equal(requestFailure('GET / HTTP/1.1\nHost: a\r\n\r\n').status, 400);
  assert.equal(requestFailure('GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n').status, 400);
  assert.equal(requestFailure('GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n').status, 400);
  assert.equal(requestFailure('GET / HTTP/1.1\r\nHost\r: a\r\n\r\n').status, 400);
  assert.equal(requestFailure('GET / HTTP/1.1\r\nX: a\r\n\n\r\n\r\n').status, 400);
});

test('RFC 7230 §3.2.4: obs-fold → 400', () => {
  assert.match(requestFailure('GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n').message, /folding/);
  assert.match(requestFailure('GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n\ttwo\r\n\r\n').message, /folding/);
});

test('RFC 7230 §3.2.4: whitespace between field name and colon → 400', () => {
  assert.match(requestFailure('GET / HTTP/1.1\r\nHost : a\r\n\r\n').message, /whitespace/);
});

test('RFC 7230 §3.2.6: field names must be tokens → 400', () => {
  for (const line of ['Ho(st: a', ': a', 'Höst: a', 'NoColon', 'X\x00: a']) {
    assert.equal(requestFailure(`GET / HTTP/1.1\r\n${line}\r\n\r\n`).status, 400, JSON.stringify(line));
  }
});

test('RFC 7230 §3.2: control characters in field values → 400', () => {
  for (const c of ['\x00', '\x01', '\x0b', '\x1f', '\x7f']) {
    assert.match(requestFailure(`GET / HTTP/1.1\r\nX: a${c}b\r\n\r\n`).message, /control character/, JSON.stringify(c));
  }
  // HTAB inside a value is fine.
  assert.equal(request('GET / HTTP/1.1\r\nX: a\tb\r\n\r\n').headers.get('x'), 'a\tb');
});

test('RFC 7230 §3: parseRequestHead never throws on a range that is not a complete head', () => {
  const buf = bytes(REQUEST);
  for (const [s, e] of [[0, 10], [-1, buf.length], [0, buf.length + 1], [5, 2], [0, Number.NaN], [0.5, buf.length]] as const) {
    const r = parseRequestHead(buf, s, e);
    assert.equal(r.ok, false);
    assert.equal((r as { status: number }).status, 400);
  }
});

test('RFC 7230 §3.1.2: status line with and without a reason phrase', () => {
  const ok = (s: string): ParsedResponseHead => {
    const buf = bytes(s);
    const r = parseResponseHead(buf, 0, buf.length);
    assert.equal(r.ok, true, r.ok ? '' : r.message);
    return r as ParsedResponseHead;
  };
  const a = ok('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
  assert.equal(a.statusCode, 101);
  assert.equal(a.reason, 'Switching Protocols');
  assert.equal(a.headers.get('upgrade'), 'websocket');
  assert.equal(ok('HTTP/1.1 101\r\n\r\n').reason, '');
  assert.equal(ok('HTTP/1.1 404 \r\n\r\n').statusCode, 404);
  for (const s of ['HTTP/1.1 10\r\n\r\n', 'HTTP/1.1 1011 x\r\n\r\n', 'HTTP/1.1  101 x\r\n\r\n', 'HTTP/1.1 101 a\x01b\r\n\r\n', 'ICY 200 OK\r\n\r\n']) {
    const buf = bytes(s);
    assert.equal(parseResponseHead(buf, 0, buf.length).ok, false, JSON.stringify(s));
  }
});

test('RFC 7230 §7: listContainsToken matches list elements case-insensitively', () => {
  assert.equal(listContainsToken('keep-alive, Upgrade', 'upgrade'), true);
  assert.equal(listContainsToken('UPGRADE', 'upgrade'), true);
  assert.equal(listContainsToken(' , ,upgrade ,', 'upgrade'), true);
  assert.equal(listContainsToken('upgrades', 'upgrade'), false);
  assert.equal(listContainsToken('keep-alive', 'upgrade'), false);
  assert.equal(listContainsToken('up grade', 'upgrade'), false);
  assert.equal(listContainsToken('', 'upgrade'), false);
});

test('RFC 7230 §3.2.6: isToken', () => {
  assert.equal(isToken("!#$%&'*+-.^_`|~09azAZ"), true);
  for (const s of ['', 'a b', 'a,b', 'a"b', 'a/b', 'é', 'a\tb', 'a=b', 'a;b']) assert.equal(isToken(s), false, JSON.stringify(s));
});


function neverThrows(buf: Uint8Array, start: number, headEnd: number, label: string): void {
  let r: ReturnType<typeof parseUpgradeRequest>;
  try {
    r = parseUpgradeRequest(buf, start, headEnd);
  } catch (err) {
    assert.fail(`${label}: threw ${String(err)}`);
  }
  if (!r.ok) {
    assert.ok([400, 405, 426, 431, 505].includes(r.status), `${label}: status ${r.status}`);
    assert.equal(typeof r.message, 'string');
  }
}

test('RFC 7230 §3: random bytes (seeded) never make parseUpgradeRequest throw', () => {
  const rand = prng(0x5eed);
  // Bias toward the bytes that drive the parser: CR, LF, SP, HTAB, ':', ',', ';', '=', '"', '\\'.
  const interesting = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x3d, 0x22, 0x5c, 0x00, 0x7f, 0xff];
  for (let n = 0; n < 3000; n++) {
    const len = 4 + Math.floor(rand() * 300);
    const buf = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const p = rand();
      buf[i] = p < 0.3 ? interesting[Math.floor(rand() * interesting.length)]! : Math.floor(rand() * 256);
    }
    const headEnd = findHeadEnd(buf, 0, len, 0);
    neverThrows(buf, 0, headEnd === -1 ? len : headEnd, `case ${n}`);
  }
});

test('RFC 7230 §3: nonsense ranges never make parseUpgradeRequest throw', () => {
  const buf = bytes(REQUEST);
  for (const [s, e] of [[0, 0], [0, 3], [-5, buf.length], [0, buf.length + 10], [10, 5], [Number.NaN, buf.length], [0, Infinity]] as const) {
    const r = parseUpgradeRequest(buf, s, e);
    assert.equal(r.ok, false);
  }
});
