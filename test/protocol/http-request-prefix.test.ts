import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestHead } from '../../src/protocol/http-head.js';
import {
  REQUEST_PREFIX_INVALID,
  REQUEST_PREFIX_START,
  scanRequestPrefix,
} from '../../src/protocol/http-request-prefix.js';
import { prng } from '../support/prng.js';
import { RFC_SAMPLE_REQUEST } from '../support/rfc-sample.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
/** The state after feeding `bytes` one at a time (how a trickling peer delivers them). */
function byteByByte(bytes: Buffer): number {
  let state = REQUEST_PREFIX_START;
  for (let i = 0; i < bytes.length; i++) state = scanRequestPrefix(bytes, i, i + 1, state);
  return state;
}
/** Index of the first byte at which the scanner says no, or -1. */
function firstRefusal(bytes: Buffer): number {
  let state = REQUEST_PREFIX_START;
  for (let i = 0; i < bytes.length; i++) {
    state = scanRequestPrefix(bytes, i, i + 1, state);
    if (state === REQUEST_PREFIX_INVALID) return i;
  }
  return -1;
}

const VALID = [
  RFC_SAMPLE_REQUEST,
  'GET / HTTP/1.1\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET http://example.com/a?b=c HTTP/1.0\r\nX-Empty:\r\nX-Tab:\t a \t\r\nX-Latin: caf\xe9\r\n\r\n',
];

test('RFC 7230 §3: every prefix of a valid request head may still become one, in one read or byte by byte', () => {
  for (const text of VALID) {
    const bytes = latin1(text);
    assert.equal(firstRefusal(bytes), -1, JSON.stringify(text));
    assert.equal(scanRequestPrefix(bytes, 0, bytes.length, REQUEST_PREFIX_START), byteByByte(bytes));
    assert.ok(parseRequestHead(bytes, 0, bytes.length).ok);
  }
  // Whatever follows a complete head (the first frames) is not looked at.
  const withFrames = Buffer.concat([latin1(VALID[1]!), Buffer.from([0x81, 0x85, 0xff, 0x00])]);
  assert.notEqual(scanRequestPrefix(withFrames, 0, withFrames.length, REQUEST_PREFIX_START), REQUEST_PREFIX_INVALID);
});

test('RFC 7230 §3: bytes no request can begin with are refused at the first such byte', () => {
  const cases: [string, number][] = [
    ['\x16\x03\x01\x02\x00', 0], // a TLS ClientHello on the ws:// port
    ['SSH-2.0-OpenSSH\r\n', 15], // a method-like token, then CR where the SP must be
    [' GET / HTTP/1.1', 0],
    ['\r\nGET / HTTP/1.1', 0],
    ['GET  / HTTP/1.1', 4], // two spaces: an empty target
    ['GET /a\x01b HTTP/1.1', 6],
    ['GET / HTTPS/1.1', 10],
    ['GET / HTTP/1.x', 13],
    ['GET / HTTP/1.1\n', 14], // bare LF
    ['GET / HTTP/1.1\r\r', 15],
    ['GET / HTTP/1.1\r\nHo st: x', 18],
    ['GET / HTTP/1.1\r\nHost : x', 20], // whitespace before the colon
    ['GET / HTTP/1.1\r\n folded', 16], // obs-fold
    ['GET / HTTP/1.1\r\nHost: a\x00b', 23],
    ['GET / HTTP/1.1\r\nHost: x\r\n\rX', 26],
    ['{"hello":"world"}', 0],
  ];
  for (const [text, at] of cases) {
    const bytes = latin1(text);
    const refused = firstRefusal(bytes);
    assert.equal(refused, at, JSON.stringify(text));
    assert.equal(scanRequestPrefix(bytes, 0, bytes.length, REQUEST_PREFIX_START), REQUEST_PREFIX_INVALID);
    assert.equal(scanRequestPrefix(bytes, 0, 0, REQUEST_PREFIX_INVALID), REQUEST_PREFIX_INVALID, 'sticky');
  }
});

test('never stricter than the head parser: a complete head the parser accepts is never refused (random mutations)', () => {
  const random = prng(7);
  const alphabet = latin1(' \t\r\n:/.-_~!#$%&*+^`|aZ09\x00\x01\x7f\x80\xff"(),;<=>?@[\\]{}');
  let accepted = 0;
  for (let round = 0; round < 20_000; round++) {
    const bytes = latin1(VALID[round % VALID.length]!);
    for (let k = 1 + Math.floor(random() * 3); k > 0; k--)
      bytes[Math.floor(random() * (bytes.length - 4))] = alphabet[Math.floor(random() * alphabet.length)]!;
    const end = bytes.indexOf('\r\n\r\n') + 4;
    if (end < 4) continue;
    const parsed = parseRequestHead(bytes, 0, end);
    const state = scanRequestPrefix(bytes, 0, end, REQUEST_PREFIX_START);
    if (parsed.ok) {
      accepted++;
      assert.notEqual(state, REQUEST_PREFIX_INVALID, JSON.stringify(bytes.toString('latin1', 0, end)));
    }
  }
  assert.ok(accepted > 1000, `only ${accepted} mutated heads parsed`);
});
