import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import {
  parseRequestHead,
  parseResponseHead,
  type ParsedRequestHead,
  type ParsedResponseHead,
} from '../../src/protocol/http-head.js';
import { parseUpgradeRequest } from '../../src/protocol/upgrade-request.js';
import { prng } from '../support/prng.js';
import { RFC_SAMPLE_REQUEST as REQUEST } from '../support/rfc-sample.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function request(head: string): ParsedRequestHead {
  const buf = bytes(head);
  const r = parseRequestHead(buf, 0, buf.length);
  assert.equal(r.ok, true, r.ok ? '' : r.message);
  return r;
}

function requestFailure(head: string): { status: number; message: string } {
  const buf = bytes(head);
  const r = parseRequestHead(buf, 0, buf.length);
  assert.equal(r.ok, false, 'expected a failure');
  return r;
}

test('RFC 7230 §3.1.1: request line split into method, target and version', () => {
  const r = request(REQUEST);
  assert.equal(r.method, 'GET');
  assert.equal(r.target, '/chat');
  assert.equal(r.httpVersion, '1.1');
  assert.equal(r.versionMajor, 1);
  assert.equal(r.versionMinor, 1);
});

test('RFC 7230 §3.1.1: malformed request lines → 400', () => {
  for (const line of [
    'GET  /chat HTTP/1.1',
    'GET /chat  HTTP/1.1',
    'GET /chat',
    'GET',
    '/chat HTTP/1.1',
    'GET /chat HTTP/1.1 ',
    'GET /ch\x01at HTTP/1.1',
    'GET /ch\xe9t HTTP/1.1',
    'G(T /chat HTTP/1.1',
    'GET /chat http/1.1',
    'GET /chat HTTP/1',
    'GET /chat HTTP/11.1',
    '',
  ]) {
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
  const r = request(
    'GET / HTTP/1.1\r\nHost:a\r\nX-Thing: \t one \t\r\nx-thing: two\r\nX-Empty:\r\nX-Inner:  a  b  \r\n\r\n',
  );
  assert.deepEqual(
    [...r.headers],
    [
      ['host', 'a'],
      ['x-thing', 'one, two'],
      ['x-empty', ''],
      ['x-inner', 'a  b'],
    ],
  );
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
  for (const [s, e] of [
    [0, 10],
    [-1, buf.length],
    [0, buf.length + 1],
    [5, 2],
    [0, Number.NaN],
    [0.5, buf.length],
  ] as const) {
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
    return r;
  };
  const a = ok('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
  assert.equal(a.statusCode, 101);
  assert.equal(a.reason, 'Switching Protocols');
  assert.equal(a.headers.get('upgrade'), 'websocket');
  assert.equal(ok('HTTP/1.1 101\r\n\r\n').reason, '');
  assert.equal(ok('HTTP/1.1 404 \r\n\r\n').statusCode, 404);
  for (const s of [
    'HTTP/1.1 10\r\n\r\n',
    'HTTP/1.1 1011 x\r\n\r\n',
    'HTTP/1.1  101 x\r\n\r\n',
    'HTTP/1.1 101 a\x01b\r\n\r\n',
    'ICY 200 OK\r\n\r\n',
  ]) {
    const buf = bytes(s);
    assert.equal(parseResponseHead(buf, 0, buf.length).ok, false, JSON.stringify(s));
  }
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
  for (const [s, e] of [
    [0, 0],
    [0, 3],
    [-5, buf.length],
    [0, buf.length + 10],
    [10, 5],
    [Number.NaN, buf.length],
    [0, Infinity],
  ] as const) {
    const r = parseUpgradeRequest(buf, s, e);
    assert.equal(r.ok, false);
  }
});
