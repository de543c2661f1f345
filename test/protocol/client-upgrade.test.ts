import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey } from '../../src/protocol/accept-key.js';
import {
  buildClientRequest,
  ClientHandshakeError,
  validateServerResponse,
  type ClientHandshakeExpectation,
  type ClientHandshakeResult,
} from '../../src/protocol/client-upgrade.js';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { buildErrorResponse, buildSwitchingProtocols } from '../../src/protocol/http-response.js';
import { parseUpgradeRequest, type UpgradeRequest } from '../../src/protocol/upgrade-request.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function validate(response: string, expected: ClientHandshakeExpectation = { key: KEY }): ClientHandshakeResult {
  const buf = Buffer.from(response, 'latin1');
  const headEnd = findHeadEnd(buf, 0, buf.length, 0);
  assert.notEqual(headEnd, -1);
  return validateServerResponse(buf, 0, headEnd, expected);
}

function failsWith(response: string, kind: string, expected?: ClientHandshakeExpectation): ClientHandshakeError {
  const r = validate(response, expected);
  assert.equal(r.ok, false, 'expected the response to be refused');
  const error = (r as { error: ClientHandshakeError }).error;
  assert.ok(error instanceof ClientHandshakeError);
  assert.ok(error instanceof Error);
  assert.equal(error.kind, kind, error.message);
  return error;
}

const response101 = (extra = ''): string =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n${extra}\r\n`;

test('RFC 6455 §4.1: buildClientRequest writes the sample handshake', () => {
  assert.equal(
    buildClientRequest({
      host: 'server.example.com',
      path: '/chat',
      key: KEY,
      protocols: ['chat', 'superchat'],
      origin: 'http://example.com',
    }),
    'GET /chat HTTP/1.1\r\n' +
      'Host: server.example.com\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${KEY}\r\n` +
      'Sec-WebSocket-Version: 13\r\n' +
      'Origin: http://example.com\r\n' +
      'Sec-WebSocket-Protocol: chat, superchat\r\n' +
      '\r\n',
  );
});

test('RFC 6455 §4.1 and §4.2.1: our request passes our own server-side validation', () => {
  const key = generateKey();
  const s = buildClientRequest({
    host: 'localhost:9001',
    path: '/echo?x=1',
    key,
    protocols: ['a', 'b'],
    extensions: 'permessage-deflate; client_max_window_bits',
    headers: { 'User-Agent': 'lightws-loadgen' },
  });
  const buf = Buffer.from(s, 'latin1');
  const r = parseUpgradeRequest(buf, 0, findHeadEnd(buf, 0, buf.length, 0)) as UpgradeRequest;
  assert.equal(r.ok, true);
  assert.equal(r.key, key);
  assert.equal(r.url, '/echo?x=1');
  assert.equal(r.host, 'localhost:9001');
  assert.deepEqual(r.protocols, ['a', 'b']);
  assert.equal(r.extensions[0]!.name, 'permessage-deflate');
  assert.equal(r.headers.get('user-agent'), 'lightws-loadgen');
  assert.equal(r.origin, undefined);
});

test('RFC 6455 §4.1: buildClientRequest refuses options that would make an invalid request (TypeError)', () => {
  const base = { host: 'h', path: '/', key: KEY };
  assert.throws(() => buildClientRequest({ ...base, path: 'chat' }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, path: '/a b' }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, path: '/a\r\nX: y' }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, host: '' }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, host: 'h\r\nX: y' }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, key: 'short' }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, protocols: ['a b'] }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, protocols: ['a', 'a'] }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, headers: { Host: 'other' } }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, headers: { 'X-A': 'a\nb' } }), TypeError);
  assert.throws(() => buildClientRequest({ ...base, origin: 'x\r\n' }), TypeError);
});

test('RFC 6455 §4.1: a valid 101 response is accepted', () => {
  const r = validate(response101());
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.equal(r.protocol, undefined);
  assert.deepEqual(r.extensions, []);
  assert.equal(r.headers.get('sec-websocket-accept'), ACCEPT);
});

test('RFC 6455 §4.1: our own 101 response round-trips through validateServerResponse', () => {
  const key = generateKey();
  const s = buildSwitchingProtocols({
    key,
    protocol: 'b',
    extensions: 'permessage-deflate; server_no_context_takeover',
  });
  const r = validate(s, { key, protocols: ['a', 'b'], extensions: 'permessage-deflate; client_max_window_bits' });
  assert.equal(r.ok, true, r.ok ? '' : r.error.message);
  if (!r.ok) return;
  assert.equal(r.protocol, 'b');
  assert.equal(r.extensions[0]!.params.get('server_no_context_takeover'), true);
});

test('RFC 6455 §4.1: frame bytes right behind the 101 are left alone', () => {
  const frame = Buffer.from([0x81, 0x02, 0x48, 0x69]); // unmasked server text frame "Hi"
  const buf = Buffer.concat([Buffer.from(response101(), 'latin1'), frame]);
  const headEnd = findHeadEnd(buf, 0, buf.length, 0);
  assert.deepEqual(buf.subarray(headEnd), frame);
  assert.equal(validateServerResponse(buf, 0, headEnd, { key: KEY }).ok, true);
});

test('RFC 6455 §4.1 item 1: status other than 101 → UnexpectedStatus, with the status', () => {
  const e = failsWith(buildErrorResponse(426), 'UnexpectedStatus');
  assert.equal(e.statusCode, 426);
  assert.match(e.message, /426 Upgrade Required/);
  assert.equal(failsWith('HTTP/1.1 200 OK\r\n\r\n', 'UnexpectedStatus').statusCode, 200);
});

test('RFC 6455 §4.1: a malformed status line → MalformedResponse', () => {
  assert.equal(failsWith('SSH-2.0-OpenSSH_9.6\r\n\r\n', 'MalformedResponse').statusCode, 0);
  failsWith('HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\r\n\r\n', 'MalformedResponse');
});

test('RFC 6455 §4.1 item 2: missing or wrong Upgrade → InvalidUpgrade', () => {
  failsWith(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
    'InvalidUpgrade',
  );
  failsWith(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
    'InvalidUpgrade',
  );
  assert.equal(
    validate(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
    ).ok,
    true,
  );
});

test('RFC 6455 §4.1 item 3: missing or wrong Connection → InvalidConnection', () => {
  failsWith(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
    'InvalidConnection',
  );
  failsWith(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: ${ACCEPT}\r\n\r\n`,
    'InvalidConnection',
  );
});

test('RFC 6455 §4.1 item 4: missing, wrong or repeated Sec-WebSocket-Accept → InvalidAccept / MalformedResponse', () => {
  failsWith('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 'InvalidAccept');
  failsWith(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n\r\n',
    'InvalidAccept',
  );
  failsWith(response101(), 'InvalidAccept', { key: generateKey() });
  failsWith(response101(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`), 'MalformedResponse');
});

test('RFC 6455 §4.1 item 5: an extension that was not offered → UnexpectedExtension', () => {
  failsWith(response101('Sec-WebSocket-Extensions: permessage-deflate\r\n'), 'UnexpectedExtension');
  failsWith(response101('Sec-WebSocket-Extensions: x-other\r\n'), 'UnexpectedExtension', {
    key: KEY,
    extensions: 'permessage-deflate',
  });
  failsWith(
    response101('Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate\r\n'),
    'UnexpectedExtension',
    { key: KEY, extensions: 'permessage-deflate' },
  );
  failsWith(response101('Sec-WebSocket-Extensions: permessage-deflate;\r\n'), 'UnexpectedExtension', {
    key: KEY,
    extensions: 'permessage-deflate',
  });
  const r = validate(response101('Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n'), {
    key: KEY,
    extensions: 'permessage-deflate; client_max_window_bits',
  });
  assert.equal(r.ok, true);
  if (r.ok) assert.equal(r.extensions[0]!.params.get('client_max_window_bits'), '12');
});

test('RFC 6455 §4.1 item 6: a subprotocol only if one was offered, and only one of those → UnexpectedProtocol', () => {
  failsWith(response101('Sec-WebSocket-Protocol: chat\r\n'), 'UnexpectedProtocol');
  failsWith(response101('Sec-WebSocket-Protocol: soap\r\n'), 'UnexpectedProtocol', { key: KEY, protocols: ['chat'] });
  failsWith(response101('Sec-WebSocket-Protocol: chat, superchat\r\n'), 'UnexpectedProtocol', {
    key: KEY,
    protocols: ['chat', 'superchat'],
  });
  failsWith(response101('Sec-WebSocket-Protocol: Chat\r\n'), 'UnexpectedProtocol', { key: KEY, protocols: ['chat'] });
  failsWith(response101('Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n'), 'MalformedResponse', {
    key: KEY,
    protocols: ['chat'],
  });
  const r = validate(response101('Sec-WebSocket-Protocol: superchat\r\n'), {
    key: KEY,
    protocols: ['chat', 'superchat'],
  });
  assert.equal(r.ok && r.protocol, 'superchat');
  // The server may also pick none.
  const none = validate(response101(), { key: KEY, protocols: ['chat'] });
  assert.equal(none.ok && none.protocol, undefined);
});
