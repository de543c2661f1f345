import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { parseRequestHead } from '../../src/protocol/http-head.js';
import {
  checkParsedUpgradeRequest,
  parseUpgradeRequest,
  type UpgradeRequest,
} from '../../src/protocol/upgrade-request.js';
import { prng } from '../support/prng.js';

/**
 * The byte parser validates a head without a Map of its fields (only the
 * fields the rules read are sliced) and builds `headers` when first read.
 * Both must answer exactly as the Map-based parse did: the same Map, the
 * same failure at the same field. The reference here is that parse:
 * parseRequestHead with the singletons, then the rules over its Map.
 */
const SINGLETONS = new Set(['host', 'origin', 'sec-websocket-key', 'sec-websocket-version', 'content-length']);

function reference(buf: Buffer, end: number): unknown {
  const head = parseRequestHead(buf, 0, end, SINGLETONS);
  if (!head.ok) return head;
  const rawHeaders = [...head.headers].flat();
  return checkParsedUpgradeRequest(
    {
      method: head.method,
      url: head.target,
      httpVersionMajor: head.versionMajor,
      httpVersionMinor: head.versionMinor,
      rawHeaders,
    },
    { maxHeaderSize: 1 << 20 },
  );
}

const CHROME = [
  'GET /chat?room=1 HTTP/1.1',
  'Host: 127.0.0.1:9001',
  'Connection: Upgrade',
  'Pragma: no-cache',
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36',
  'Upgrade: websocket',
  'Origin: http://127.0.0.1:9001',
  'Sec-WebSocket-Version: 13',
  'Accept-Language: en-US,en;q=0.9',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
];

const head = (lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

test('the lazy headers Map holds what the eager parse held: names lower-cased, repeats joined, in order', () => {
  const lines = [
    ...CHROME,
    'X-Trace:  a1 ',
    'x-trace: b2',
    'SEC-WEBSOCKET-PROTOCOL: chat',
    'Sec-WebSocket-Protocol:superchat',
    'Cookie: s=1; t=2',
    'Upgrade: h2c',
  ];
  const buf = head(lines);
  const parsed = parseUpgradeRequest(buf, 0, buf.length) as UpgradeRequest;
  assert.equal(parsed.ok, true);
  const eager = parseRequestHead(buf, 0, buf.length, SINGLETONS);
  assert.ok(eager.ok);
  assert.deepEqual([...parsed.headers], [...eager.headers]);
  assert.equal(parsed.headers.get('x-trace'), 'a1, b2');
  assert.equal(parsed.headers.get('upgrade'), 'websocket, h2c');
  assert.deepEqual(parsed.protocols, ['chat', 'superchat']);
  assert.equal(parsed.headers, parsed.headers, 'built once');
  buf.fill(0); // the Map comes from the decoded head, not from bytes that a later read overwrites
  assert.equal(parsed.headers.get('user-agent')?.startsWith('Mozilla/5.0'), true);
});

test('the fields the rules read are found in any letter case, and repeated singletons are refused at the same field', () => {
  const buf = head(CHROME.map((line, i) => (i === 0 ? line : line.replace(/^[^:]+/, (name) => name.toUpperCase()))));
  const r = parseUpgradeRequest(buf, 0, buf.length) as UpgradeRequest;
  assert.equal(r.ok, true);
  assert.equal(r.host, '127.0.0.1:9001');
  assert.equal(r.origin, 'http://127.0.0.1:9001');
  assert.equal(r.key, 'dGhlIHNhbXBsZSBub25jZQ==');
  for (const name of ['Host', 'origin', 'SEC-WEBSOCKET-KEY', 'Sec-WebSocket-Version', 'Content-Length']) {
    const twice = head([...CHROME, `${name}: 0`, `${name}: 0`, 'Bad Line']);
    assert.deepEqual(parseUpgradeRequest(twice, 0, twice.length), reference(twice, twice.length), name);
    assert.match((parseUpgradeRequest(twice, 0, twice.length) as { message: string }).message, /^repeated /);
  }
});

test('random heads built from real and broken lines (seeded): the byte parser answers as the Map-based parse', () => {
  const pool = [
    ...CHROME.slice(1),
    'HOST: other',
    'origin: null',
    'Content-Length: 0',
    'Content-Length: 5',
    'Transfer-Encoding: chunked',
    'transfer-encoding:',
    'Sec-WebSocket-Version: 8',
    'Sec-WebSocket-Version: 13 ',
    'sec-websocket-key: c2hvcnQ=',
    'Sec-WebSocket-Protocol: a b',
    'Sec-WebSocket-Protocol: chat',
    'Sec-WebSocket-Extensions: ;x',
    'Sec-WebSocket-Extensions: permessage-deflate',
    'Connection: keep-alive',
    'Upgrade: WebSocket',
    'Host:',
    'X-Empty:',
    'Name : v',
    ' folded',
    'NoColon',
    'Bad\u0001: v',
    'Hosts: x',
    'Originx: y',
    'sec-websocket-keys: z',
    'X-Value: a\tb',
    'Val: \u00e9t\u00e9',
  ];
  const random = prng(15);
  let accepted = 0;
  for (let round = 0; round < 3000; round++) {
    const lines = [random() < 0.9 ? 'GET /chat HTTP/1.1' : 'GET /chat HTTP/1.0'];
    const count = Math.floor(random() * 6);
    for (let i = 0; i < count; i++) lines.push(pool[Math.floor(random() * pool.length)]!);
    if (random() < 0.8) lines.push(...CHROME.slice(1));
    const buf = head(lines);
    const end = findHeadEnd(buf, 0, buf.length, 0);
    const got = parseUpgradeRequest(buf, 0, end, { maxHeaderSize: 1 << 20 });
    const want = reference(buf, end);
    assert.deepEqual(got, want, lines.join(' | '));
    if (got.ok) {
      accepted++;
      assert.deepEqual([...got.headers], [...(want as UpgradeRequest).headers], lines.join(' | '));
    }
  }
  assert.ok(accepted > 300 && accepted < 2700, `both answers were exercised (${accepted} accepted)`);
});
