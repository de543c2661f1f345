import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { parseResponseHead, type ParsedResponseHead } from '../../src/protocol/http-head.js';
import { buildErrorResponse, buildSwitchingProtocols, reasonPhrase } from '../../src/protocol/http-response.js';
import { parseUpgradeRequest, type HandshakeFailure } from '../../src/protocol/upgrade-request.js';
import { buildFailureResponse, toLatin1Buffer } from '../support/http-heads.js';

function parseHead(s: string): { head: ParsedResponseHead; body: string } {
  const buf = Buffer.from(s, 'latin1');
  const headEnd = findHeadEnd(buf, 0, buf.length, 0);
  assert.notEqual(headEnd, -1);
  const head = parseResponseHead(buf, 0, headEnd);
  assert.equal(head.ok, true);
  return { head, body: buf.subarray(headEnd).toString('utf8') };
}

test('RFC 6455 §4.2.2 item 5: the 101 response for the sample key, byte for byte', () => {
  assert.equal(
    buildSwitchingProtocols({ key: 'dGhlIHNhbXBsZSBub25jZQ==' }),
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
      '\r\n',
  );
});

test('RFC 6455 §4.2.2 item 5.4: the 101 carries the selected subprotocol and extensions', () => {
  const s = buildSwitchingProtocols({
    key: 'dGhlIHNhbXBsZSBub25jZQ==',
    protocol: 'chat',
    extensions: 'permessage-deflate; server_no_context_takeover',
    headers: { 'X-Powered-By': 'lightws', 'Set-Cookie': 'a=b; Path=/' },
  });
  assert.equal(
    s,
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
      'Sec-WebSocket-Protocol: chat\r\n' +
      'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n' +
      'X-Powered-By: lightws\r\n' +
      'Set-Cookie: a=b; Path=/\r\n' +
      '\r\n',
  );
  // Undefined and empty values mean "no header".
  const plain = buildSwitchingProtocols({ key: 'dGhlIHNhbXBsZSBub25jZQ==', protocol: undefined, extensions: '' });
  assert.doesNotMatch(plain, /Sec-WebSocket-(Protocol|Extensions)/);
});

test('RFC 7230 §3.2: extra headers as pairs may repeat a name', () => {
  const s = buildSwitchingProtocols({
    key: 'dGhlIHNhbXBsZSBub25jZQ==',
    headers: [
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ],
  });
  assert.match(s, /Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n$/);
  assert.match(
    buildSwitchingProtocols({ key: 'dGhlIHNhbXBsZSBub25jZQ==', headers: new Map([['X-A', '1']]) }),
    /X-A: 1\r\n\r\n$/,
  );
});

test('RFC 7230 §3.2: header values that would split the response are refused (TypeError)', () => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  assert.throws(() => buildSwitchingProtocols({ key, headers: { 'X-A': 'a\r\nSet-Cookie: evil=1' } }), TypeError);
  assert.throws(() => buildSwitchingProtocols({ key, headers: { 'X-A': 'a\nb' } }), TypeError);
  assert.throws(() => buildSwitchingProtocols({ key, headers: { 'X A': 'b' } }), TypeError);
  assert.throws(() => buildSwitchingProtocols({ key, headers: { 'X-A': 'caf\u20ac' } }), TypeError);
  assert.throws(() => buildSwitchingProtocols({ key, protocol: 'chat\r\nX: y' }), TypeError);
  assert.throws(() => buildSwitchingProtocols({ key, extensions: 'a\r\n' }), TypeError);
  assert.throws(() => buildErrorResponse(400, 'x', { 'X-A': '\r\n' }), TypeError);
});

test("RFC 6455 §4.2.2: extra headers may not override the handshake's own fields", () => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  for (const name of [
    'Upgrade',
    'connection',
    'Sec-WebSocket-Accept',
    'SEC-WEBSOCKET-PROTOCOL',
    'Sec-WebSocket-Extensions',
    'Content-Length',
  ]) {
    assert.throws(() => buildSwitchingProtocols({ key, headers: { [name]: 'x' } }), TypeError, name);
  }
  assert.throws(() => buildErrorResponse(400, 'x', { 'Content-Length': '0' }), TypeError);
});

test('RFC 6455 §4.2.2 item 4: a 400 error response: status line, Connection: close, text/plain, Content-Length, body', () => {
  assert.equal(
    buildErrorResponse(400, 'missing Host header'),
    'HTTP/1.1 400 Bad Request\r\n' +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'Content-Length: 20\r\n' +
      '\r\n' +
      'missing Host header\n',
  );
});

test('RFC 7231 §6: the body defaults to the reason phrase', () => {
  const { head, body } = parseHead(buildErrorResponse(403));
  assert.equal(head.statusCode, 403);
  assert.equal(head.reason, 'Forbidden');
  assert.equal(body, 'Forbidden\n');
  assert.equal(head.headers.get('content-length'), String(body.length));
});

test('RFC 6455 §4.4: 426 carries Sec-WebSocket-Version: 13', () => {
  const { head } = parseHead(buildErrorResponse(426));
  assert.equal(head.reason, 'Upgrade Required');
  assert.equal(head.headers.get('sec-websocket-version'), '13');
  // Given explicitly, it is not written twice.
  const twice = buildErrorResponse(426, undefined, { 'Sec-WebSocket-Version': '13' });
  assert.equal(twice.match(/Sec-WebSocket-Version/g)?.length, 1);
});

test('RFC 7231 §6.5.5: 405 carries Allow: GET', () => {
  const { head } = parseHead(buildErrorResponse(405));
  assert.equal(head.headers.get('allow'), 'GET');
});

test("RFC 7230 §3.3.2: Content-Length is the body's byte length even for non-ASCII messages", () => {
  const { head, body } = parseHead(buildErrorResponse(400, 'bad caf\u00e9 \u20ac \u00a7\r\nX-Injected: 1'));
  // UTF-8 body; CR and LF in the message cannot start a header line.
  assert.equal(body, 'bad caf\u00e9 \u20ac \u00a7??X-Injected: 1\n');
  assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(body, 'utf8')));
  assert.equal(head.headers.get('content-length'), '32');
  assert.equal(head.headers.has('x-injected'), false);
});

test('RFC 6585 §5 and RFC 7231 §6: reason phrases for the statuses a handshake ends with', () => {
  assert.equal(reasonPhrase(431), 'Request Header Fields Too Large');
  assert.equal(reasonPhrase(505), 'HTTP Version Not Supported');
  assert.equal(reasonPhrase(101), 'Switching Protocols');
  assert.equal(reasonPhrase(599), 'Unknown');
  assert.match(buildErrorResponse(431), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(
    buildErrorResponse(307, 'moved', { Location: 'wss://other.example/chat' }),
    /^HTTP\/1\.1 307 Temporary Redirect\r\n[^]*Location: wss:\/\/other\.example\/chat\r\n/,
  );
  assert.throws(() => buildErrorResponse(101), RangeError);
  assert.throws(() => buildErrorResponse(200), RangeError);
  assert.throws(() => buildErrorResponse(600), RangeError);
});

test('RFC 6455 §4.2.1 item 6: buildFailureResponse turns a parse failure into its response', () => {
  const buf = Buffer.from(
    'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n',
    'latin1',
  );
  const failure = parseUpgradeRequest(buf, 0, buf.length) as HandshakeFailure;
  assert.equal(failure.ok, false);
  const { head, body } = parseHead(buildFailureResponse(failure));
  assert.equal(head.statusCode, 426);
  assert.equal(head.headers.get('sec-websocket-version'), '13');
  assert.equal(head.headers.get('connection'), 'close');
  assert.equal(body, `${failure.message}\n`);
});

test('RFC 6455 §4.2.2: toLatin1Buffer encodes one byte per character', () => {
  const b = toLatin1Buffer(buildErrorResponse(400, 'x'));
  assert.equal(b.length, buildErrorResponse(400, 'x').length);
  assert.equal(b.subarray(0, 12).toString('latin1'), 'HTTP/1.1 400');
});
