import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { parseRequestHead, type ParsedRequestHead } from '../../src/protocol/http-head.js';
import { buildResponseHead, buildUpgradeRequired } from '../../src/protocol/http-plain-response.js';
import { checkPlainRequest, requestPath, type PlainRequestHead } from '../../src/protocol/http-request.js';
import { isUpgradeAttempt, REQUEST_SINGLETONS } from '../../src/protocol/upgrade-request.js';

function head(text: string): ParsedRequestHead {
  const buf = Buffer.from(text, 'latin1');
  const parsed = parseRequestHead(buf, 0, findHeadEnd(buf, 0, buf.length, 0), REQUEST_SINGLETONS);
  assert.ok(parsed.ok, text);
  return parsed;
}

const check = (text: string, max = 100) => checkPlainRequest(head(text), max);

test('an upgrade attempt names websocket in Upgrade, or carries Sec-WebSocket-Key or -Version; anything else is plain HTTP', () => {
  const attempt = (headers: string) => isUpgradeAttempt(head(`GET / HTTP/1.1\r\nHost: x\r\n${headers}\r\n`).headers);
  assert.equal(attempt(''), false);
  assert.equal(
    attempt('Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n'),
    false,
    'RFC 7230 §6.7: an upgrade we do not speak is ignored',
  );
  assert.equal(attempt('Upgrade: WebSocket\r\n'), true);
  assert.equal(attempt('Upgrade: foo, websocket\r\n'), true);
  assert.equal(attempt('Sec-WebSocket-Key: abc\r\n'), true);
  assert.equal(attempt('Sec-WebSocket-Version: 8\r\n'), true);
});

test('plain requests: keep-alive by version and Connection, the body length, 100-continue', () => {
  const ok = (text: string) => check(text) as PlainRequestHead;
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\n\r\n').keepAlive, true);
  assert.equal(ok('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
  assert.equal(ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n').bodyLength, 100);
  assert.equal(
    ok('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n').expectContinue,
    true,
  );
  assert.equal(
    ok('GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n').expectContinue,
    false,
    'nothing to continue without a body',
  );
  assert.equal(ok('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n').url, '*');
  assert.equal(ok('GET http://x/a?b HTTP/1.1\r\nHost: x\r\n\r\n').url, 'http://x/a?b');
});

test('plain requests refused, each with its status', () => {
  const refused: [string, number][] = [
    ['GET / HTTP/1.1\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
    ['GET * HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 411],
    ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n', 413],
    ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n', 413],
    ['GET / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n', 417],
  ];
  for (const [text, status] of refused) {
    const result = check(text);
    assert.equal(result.ok, false, text);
    assert.equal(!result.ok && result.status, status, text);
  }
});

test('the request path: origin-form and absolute-form, without the query or a fragment', () => {
  assert.deepEqual(['/', '/a/b?c=d', 'http://host:1/p/q?x', 'http://host', '/x#frag', '*'].map(requestPath), [
    '/',
    '/a/b',
    '/p/q',
    '/',
    '/x',
    '/',
  ]);
});

test("response heads: the framing fields are the server's, a Content-Type unless the application set one, none for 204", () => {
  const date = 'Tue, 01 Dec 2026 12:00:00 GMT';
  assert.equal(
    buildResponseHead({ status: 200, contentLength: 3, contentType: 'text/plain; charset=utf-8', date }),
    `HTTP/1.1 200 OK\r\nDate: ${date}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\n`,
  );
  assert.equal(
    buildResponseHead({
      status: 404,
      contentLength: 0,
      contentType: 'x/y',
      connection: 'close',
      date,
      headers: { 'content-type': 'a/b', 'X-N': 5, 'X-Skip': undefined },
    }),
    `HTTP/1.1 404 Not Found\r\nDate: ${date}\r\nConnection: close\r\nContent-Length: 0\r\ncontent-type: a/b\r\nX-N: 5\r\n\r\n`,
  );
  assert.equal(
    buildResponseHead({ status: 204, contentLength: 7, date }),
    `HTTP/1.1 204 No Content\r\nDate: ${date}\r\n\r\n`,
  );
  assert.throws(() => buildResponseHead({ status: 101, contentLength: 0, date }), RangeError);
  assert.throws(
    () => buildResponseHead({ status: 200, contentLength: 0, date, headers: { 'Content-Length': '9' } }),
    /written by the server itself/,
  );
  assert.throws(
    () => buildResponseHead({ status: 200, contentLength: 0, date, headers: { 'X-A': 'a\r\nInjected: 1' } }),
    /invalid value/,
  );
  const upgrade = buildUpgradeRequired(date);
  assert.match(upgrade, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
  assert.match(upgrade, /\r\nUpgrade: websocket\r\n/);
  const [headPart, body] = upgrade.split('\r\n\r\n');
  assert.equal(Number(/Content-Length: (\d+)/.exec(headPart!)![1]), body!.length);
});
