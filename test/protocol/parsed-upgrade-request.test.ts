import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import {
  checkParsedUpgradeRequest,
  parseUpgradeRequest,
  type ParsedRequestFields,
} from '../../src/protocol/upgrade-request.js';
import { RFC_SAMPLE_REQUEST } from '../support/rfc-sample.js';

/**
 * handleUpgrade checks the request node:http parsed instead of rebuilding
 * its bytes: the answer must be the one the byte parser gives the same head.
 */

/** What node:http's IncomingMessage holds for a head: request line parts, rawHeaders with OWS trimmed. */
function fieldsOf(head: string): ParsedRequestFields {
  const lines = head.slice(0, -4).split('\r\n');
  const [method, url, version] = lines[0]!.split(' ');
  const rawHeaders = lines.slice(1).flatMap((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  return { method, url, httpVersionMajor: Number(version![5]), httpVersionMinor: Number(version![7]), rawHeaders };
}

function fromBytes(head: string, maxHeaderSize?: number): unknown {
  const buf = Buffer.from(head, 'latin1');
  return parseUpgradeRequest(buf, 0, findHeadEnd(buf, 0, buf.length, 0), { maxHeaderSize });
}

type Field = 'host' | 'upgrade' | 'connection' | 'key' | 'version';
const BASE: Record<Field, string> = {
  host: 'Host: server.example.com',
  upgrade: 'Upgrade: websocket',
  connection: 'Connection: keep-alive, Upgrade',
  key: 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  version: 'Sec-WebSocket-Version: 13',
};

/** A valid request with some base lines replaced or dropped (null) and `extra` lines added. */
function request(
  replace: Partial<Record<Field, string | null>>,
  extra: string[] = [],
  requestLine = 'GET /chat?room=1 HTTP/1.1',
): string {
  const lines = [...Object.values({ ...BASE, ...replace }), ...extra].filter((l): l is string => l !== null);
  return `${requestLine}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
}

const CASES: [string, string][] = [
  ['the RFC 6455 sample', RFC_SAMPLE_REQUEST],
  [
    'subprotocols on two lines, extensions, an Origin',
    request({}, [
      'Sec-WebSocket-Protocol: chat',
      'Sec-WebSocket-Protocol: superchat',
      'Origin: http://example.com',
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
    ]),
  ],
  ['absolute-form target', request({}, [], 'GET ws://server.example.com/chat HTTP/1.1')],
  ['HTTP/1.2', request({}, [], 'GET /chat HTTP/1.2')],
  ['POST', request({}, [], 'POST /chat HTTP/1.1')],
  ['HTTP/1.0', request({}, [], 'GET /chat HTTP/1.0')],
  ['HTTP/2.0', request({}, [], 'GET /chat HTTP/2.0')],
  ['an asterisk target', request({}, [], 'GET * HTTP/1.1')],
  ['no Host', request({ host: null })],
  ['two Hosts', request({}, ['Host: other.example.com'])],
  ['a Host list', request({ host: 'Host: a.example, b.example' })],
  ['no Upgrade', request({ upgrade: null })],
  ['Upgrade: h2c', request({ upgrade: 'Upgrade: h2c' })],
  ['Connection without upgrade', request({ connection: 'Connection: keep-alive' })],
  ['version 8', request({ version: 'Sec-WebSocket-Version: 8' })],
  ['no version', request({ version: null })],
  ['two versions', request({}, ['Sec-WebSocket-Version: 13'])],
  ['no key', request({ key: null })],
  ['a short key', request({ key: 'Sec-WebSocket-Key: c2hvcnQ=' })],
  ['two keys', request({}, ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='])],
  ['a bad subprotocol', request({}, ['Sec-WebSocket-Protocol: a b'])],
  ['bad extensions', request({}, ['Sec-WebSocket-Extensions: ;x'])],
  ['a body', request({}, ['Content-Length: 5'])],
  ['two Origins', request({}, ['Origin: http://a', 'Origin: http://b'])],
];

for (const [what, head] of CASES) {
  test(`checkParsedUpgradeRequest answers as the byte parser does: ${what}`, () => {
    const parsed = checkParsedUpgradeRequest(fieldsOf(head));
    const bytes = fromBytes(head) as typeof parsed;
    assert.deepEqual(parsed, bytes);
    // headers is a getter (built lazily on the byte path), so deepEqual does not see it.
    if (parsed.ok && bytes.ok) assert.deepEqual([...parsed.headers], [...bytes.headers]);
  });
}

test('checkParsedUpgradeRequest: the head size is counted as sent, so maxHeaderSize cuts at the same byte', () => {
  const base = request({}, ['X-Pad: ']);
  const exact = request({}, [`X-Pad: ${'a'.repeat(1000 - base.length)}`]);
  assert.equal(exact.length, 1000);
  for (const [max, ok] of [
    [1000, true],
    [999, false],
  ] as const) {
    const parsed = checkParsedUpgradeRequest(fieldsOf(exact), { maxHeaderSize: max });
    assert.deepEqual(parsed, fromBytes(exact, max));
    assert.equal(parsed.ok, ok, `maxHeaderSize ${max}`);
    if (!parsed.ok) assert.equal(parsed.status, 431);
  }
});

test('checkParsedUpgradeRequest: the failures are real ones (the table above is not all accepted)', () => {
  const statuses = CASES.map(([, head]) => {
    const r = checkParsedUpgradeRequest(fieldsOf(head));
    return r.ok ? 101 : r.status;
  });
  assert.deepEqual(
    statuses,
    [
      101, 101, 101, 101, 405, 400, 505, 400, 400, 400, 400, 400, 400, 400, 426, 426, 400, 400, 400, 400, 400, 400, 400,
      400,
    ],
  );
});
