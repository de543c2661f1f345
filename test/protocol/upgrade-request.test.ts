import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { parseUpgradeRequest, type HandshakeFailure, type UpgradeRequest } from '../../src/protocol/upgrade-request.js';
import { prng } from '../support/prng.js';
import { RFC_SAMPLE_REQUEST as RFC_SAMPLE } from '../support/rfc-sample.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function parse(head: string, options?: { maxHeaderSize?: number }): UpgradeRequest | HandshakeFailure {
  const buf = bytes(head);
  const headEnd = findHeadEnd(buf, 0, buf.length, 0);
  assert.notEqual(headEnd, -1, 'test request has no head end');
  return parseUpgradeRequest(buf, 0, headEnd, options);
}

function ok(head: string): UpgradeRequest {
  const r = parse(head);
  assert.equal(r.ok, true, r.ok ? '' : `${r.status} ${r.message}`);
  return r;
}

function refused(head: string, status: number, message?: RegExp): HandshakeFailure {
  const r = parse(head);
  assert.equal(r.ok, false, 'expected the handshake to be refused');
  const f = r;
  assert.equal(f.status, status, f.message);
  if (message !== undefined) assert.match(f.message, message);
  return f;
}

/** A valid request with the given lines replaced (name → line, or null to drop). */
function request(overrides: Record<string, string | null> = {}, requestLine = 'GET /chat HTTP/1.1'): string {
  const lines: Record<string, string | null> = {
    host: 'Host: server.example.com',
    upgrade: 'Upgrade: websocket',
    connection: 'Connection: Upgrade',
    key: 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    version: 'Sec-WebSocket-Version: 13',
    ...overrides,
  };
  return `${requestLine}\r\n${Object.values(lines)
    .filter((l) => l !== null)
    .map((l) => `${l}\r\n`)
    .join('')}\r\n`;
}

// --- Real requests, written out as captured -------------------------------

const CHROME =
  'GET /echo?room=1 HTTP/1.1\r\n' +
  'Host: localhost:9001\r\n' +
  'Connection: Upgrade\r\n' +
  'Pragma: no-cache\r\n' +
  'Cache-Control: no-cache\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n' +
  'Upgrade: websocket\r\n' +
  'Origin: http://localhost:9001\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Accept-Encoding: gzip, deflate, br, zstd\r\n' +
  'Accept-Language: en-US,en;q=0.9\r\n' +
  'Cookie: session=abc123; theme=dark\r\n' +
  'Sec-WebSocket-Key: 8n0R8YF9OGv+Up6Y7mHd3g==\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
  '\r\n';

const FIREFOX =
  'GET /echo HTTP/1.1\r\n' +
  'Host: localhost:9001\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n' +
  'Accept: */*\r\n' +
  'Accept-Language: en-US,en;q=0.5\r\n' +
  'Accept-Encoding: gzip, deflate, br\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Origin: http://localhost:9001\r\n' +
  'Sec-WebSocket-Protocol: graphql-ws\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate\r\n' +
  'Sec-WebSocket-Key: lAt5Wl9NvfVoKkQmXMxBzA==\r\n' +
  'Connection: keep-alive, Upgrade\r\n' +
  'Sec-Fetch-Dest: empty\r\n' +
  'Sec-Fetch-Mode: websocket\r\n' +
  'Sec-Fetch-Site: same-origin\r\n' +
  'Pragma: no-cache\r\n' +
  'Cache-Control: no-cache\r\n' +
  'Upgrade: websocket\r\n' +
  '\r\n';

/** Captured from ws 8 (`new WebSocket('ws://localhost:38193/chat', ['chat'])`). */
const WS_NODE =
  'GET /chat HTTP/1.1\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Key: FYO24yY/Mq3ZuJDn5Rx5fA==\r\n' +
  'Connection: Upgrade\r\n' +
  'Upgrade: websocket\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
  'Sec-WebSocket-Protocol: chat\r\n' +
  'Host: localhost:38193\r\n' +
  '\r\n';

const PYTHON_WEBSOCKETS =
  'GET /ws HTTP/1.1\r\n' +
  'Host: 127.0.0.1:8765\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: 3N2zqVQdTfDvHhmUNZ0pdQ==\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
  'User-Agent: Python/3.12 websockets/12.0\r\n' +
  '\r\n';

test('RFC 6455 §1.2: the sample client handshake is accepted, every field reported', () => {
  const r = ok(RFC_SAMPLE);
  assert.equal(r.method, 'GET');
  assert.equal(r.url, '/chat');
  assert.equal(r.httpVersion, '1.1');
  assert.equal(r.host, 'server.example.com');
  assert.equal(r.key, 'dGhlIHNhbXBsZSBub25jZQ==');
  assert.equal(r.version, 13);
  assert.equal(r.origin, 'http://example.com');
  assert.deepEqual(r.protocols, ['chat', 'superchat']);
  assert.deepEqual(r.extensions, []);
  assert.equal(r.headers.get('upgrade'), 'websocket');
  assert.equal(r.headers.get('sec-websocket-protocol'), 'chat, superchat');
});

test('§4.2.1: a request from Chrome', () => {
  const r = ok(CHROME);
  assert.equal(r.url, '/echo?room=1');
  assert.equal(r.host, 'localhost:9001');
  assert.equal(r.origin, 'http://localhost:9001');
  assert.equal(r.key, '8n0R8YF9OGv+Up6Y7mHd3g==');
  assert.deepEqual(r.protocols, []);
  assert.equal(r.extensions.length, 1);
  assert.equal(r.extensions[0]!.name, 'permessage-deflate');
  assert.deepEqual([...r.extensions[0]!.params], [['client_max_window_bits', true]]);
  assert.equal(r.headers.get('cookie'), 'session=abc123; theme=dark');
});

test('§4.2.1 item 4: a request from Firefox (Connection: keep-alive, Upgrade)', () => {
  const r = ok(FIREFOX);
  assert.equal(r.headers.get('connection'), 'keep-alive, Upgrade');
  assert.deepEqual(r.protocols, ['graphql-ws']);
  assert.deepEqual(
    r.extensions.map((e) => [e.name, e.params.size]),
    [['permessage-deflate', 0]],
  );
  assert.equal(r.headers.get('sec-fetch-mode'), 'websocket');
});

test('§4.2.1: a request from ws (Node), Host last', () => {
  const r = ok(WS_NODE);
  assert.equal(r.host, 'localhost:38193');
  assert.equal(r.origin, undefined);
  assert.deepEqual(r.protocols, ['chat']);
  assert.equal(r.extensions[0]!.params.get('client_max_window_bits'), true);
});

test('§4.2.1: a request from python websockets', () => {
  const r = ok(PYTHON_WEBSOCKETS);
  assert.equal(r.url, '/ws');
  assert.equal(r.key, '3N2zqVQdTfDvHhmUNZ0pdQ==');
  assert.equal(r.headers.get('user-agent'), 'Python/3.12 websockets/12.0');
});

// --- §4.2.1 item 1: GET, HTTP/1.1 or higher --------------------------------

test('§4.2.1 item 1: method other than GET → 405 with Allow: GET', () => {
  for (const method of ['POST', 'HEAD', 'PUT', 'CONNECT', 'get']) {
    const f = refused(request({}, `${method} /chat HTTP/1.1`), 405);
    assert.deepEqual(f.headers, { Allow: 'GET' });
  }
});

test('§4.2.1 item 1: HTTP/1.0 → 400', () => {
  refused(request({}, 'GET /chat HTTP/1.0'), 400, /HTTP\/1\.1/);
});

test('§4.2.1 item 1: later HTTP/1.x minor versions are accepted (RFC 7230 §2.6)', () => {
  assert.equal(ok(request({}, 'GET /chat HTTP/1.2')).httpVersion, '1.2');
});

test('§4.2.1 item 1: HTTP/2.0 or HTTP/3.0 on an HTTP/1 connection → 505', () => {
  refused(request({}, 'GET /chat HTTP/2.0'), 505);
  refused(request({}, 'GET /chat HTTP/3.0'), 505);
});

test('§4.2.1 item 1: garbage request line → 400', () => {
  refused(request({}, 'GET /chat'), 400);
  refused(request({}, 'GET /chat HTTP/1.1 extra'), 400);
  refused(request({}, '\x16\x03\x01\x02\x00\x01'), 400); // a TLS ClientHello on a plain port
  refused('\r\n\r\n', 400);
});

test('§4.2.1 item 1: request target is origin-form or absolute-form (RFC 7230 §5.3)', () => {
  assert.equal(ok(request({}, 'GET ws://server.example.com/chat HTTP/1.1')).url, 'ws://server.example.com/chat');
  assert.equal(ok(request({}, 'GET /a/b?c=d&e=%20#f HTTP/1.1')).url, '/a/b?c=d&e=%20#f');
  refused(request({}, 'GET * HTTP/1.1'), 400);
  refused(request({}, 'GET server.example.com:80 HTTP/1.1'), 400);
  refused(request({}, 'GET chat HTTP/1.1'), 400);
});

// --- §4.2.1 item 2: Host ----------------------------------------------------

test('§4.2.1 item 2: missing Host → 400', () => {
  refused(request({ host: null }), 400, /Host/);
});

test('§4.2.1 item 2: empty Host → 400', () => {
  refused(request({ host: 'Host: ' }), 400, /Host/);
});

test('§4.2.1 item 2: repeated Host → 400 (RFC 7230 §5.4)', () => {
  refused(request({ host: 'Host: a.example\r\nHost: b.example' }), 400, /repeated host/);
});

test('§4.2.1 item 2: Host with whitespace or a list → 400 (RFC 7230 §5.4)', () => {
  refused(request({ host: 'Host: a.example b.example' }), 400, /Host/);
  refused(request({ host: 'Host: a.example,b.example' }), 400, /Host/);
});

test('§4.2.1 item 2: Host with OWS around it is trimmed', () => {
  assert.equal(ok(request({ host: 'Host: \t [::1]:8080 \t' })).host, '[::1]:8080');
});

// --- §4.2.1 item 3: Upgrade -------------------------------------------------

test('§4.2.1 item 3: Upgrade is case-insensitive', () => {
  ok(request({ upgrade: 'Upgrade: WebSocket' }));
  ok(request({ upgrade: 'upgrade: WEBSOCKET' }));
});

test('§4.2.1 item 3: missing or wrong Upgrade → 400', () => {
  refused(request({ upgrade: null }), 400, /Upgrade/);
  refused(request({ upgrade: 'Upgrade: h2c' }), 400, /Upgrade/);
  refused(request({ upgrade: 'Upgrade: websockets' }), 400, /Upgrade/);
  refused(request({ upgrade: 'Upgrade:' }), 400, /Upgrade/);
});

// --- §4.2.1 item 4: Connection ----------------------------------------------

test('§4.2.1 item 4: Connection token list containing upgrade, any case', () => {
  ok(request({ connection: 'Connection: keep-alive, Upgrade' }));
  ok(request({ connection: 'Connection: UPGRADE' }));
  ok(request({ connection: 'Connection: upgrade,keep-alive' }));
  ok(request({ connection: 'Connection: keep-alive\r\nConnection: Upgrade' }));
});

test('§4.2.1 item 4: missing Connection or no upgrade token → 400', () => {
  refused(request({ connection: null }), 400, /Connection/);
  refused(request({ connection: 'Connection: keep-alive' }), 400, /Connection/);
  refused(request({ connection: 'Connection: close' }), 400, /Connection/);
  refused(request({ connection: 'Connection: upgraded' }), 400, /Connection/);
});

// --- §4.2.1 item 5: Sec-WebSocket-Key ---------------------------------------

test('§4.2.1 item 5: missing Sec-WebSocket-Key → 400', () => {
  refused(request({ key: null }), 400, /Sec-WebSocket-Key/);
});

test('§4.2.1 item 5: Sec-WebSocket-Key not 16 bytes → 400', () => {
  for (const key of [
    '',
    'dGhlIHNhbXBsZSBub25jZQ',
    'dGhlIHNhbXBsZSBub25jZXg=',
    'AAAA',
    'dGhlIHNhbXBsZSBub25jZQ==AAAA',
    'dGhl*HNhbXBsZSBub25jZQ==',
  ]) {
    refused(request({ key: `Sec-WebSocket-Key: ${key}` }), 400, /Sec-WebSocket-Key/);
  }
});

test('§11.3.1: repeated Sec-WebSocket-Key → 400', () => {
  refused(
    request({ key: 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' }),
    400,
    /repeated sec-websocket-key/,
  );
});

// --- §4.2.1 item 6: Sec-WebSocket-Version -----------------------------------

test('§4.2.1 item 6: Sec-WebSocket-Version other than 13 → 426 with Sec-WebSocket-Version: 13', () => {
  for (const v of ['8', '7', '12', '14', '013', 'thirteen']) {
    const f = refused(request({ version: `Sec-WebSocket-Version: ${v}` }), 426);
    assert.deepEqual(f.headers, { 'Sec-WebSocket-Version': '13' });
  }
});

test('§4.2.1 item 6: missing Sec-WebSocket-Version → 426 (§4.4)', () => {
  const f = refused(request({ version: null }), 426);
  assert.equal(f.headers?.['Sec-WebSocket-Version'], '13');
});

test('§4.4: the version is checked before the key, so an old draft client learns to speak 13', () => {
  refused(request({ version: 'Sec-WebSocket-Version: 8', key: 'Sec-WebSocket-Key: not-a-key' }), 426);
});

test('§11.3.5: repeated Sec-WebSocket-Version in a request → 400', () => {
  refused(request({ version: 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13' }), 400, /repeated/);
});

// --- §4.2.1 item 7: Origin --------------------------------------------------

test('§4.2.1 item 7: Origin reported as sent, undefined when absent', () => {
  assert.equal(ok(request({ origin: 'Origin: https://Example.com' })).origin, 'https://Example.com');
  assert.equal(ok(request()).origin, undefined);
});

test('§4.2.1 item 7: repeated Origin → 400 (RFC 6454 §7.3)', () => {
  refused(request({ origin: 'Origin: https://a.example\r\nOrigin: https://b.example' }), 400, /repeated origin/);
});

// --- §4.2.1 items 8 and 9 ---------------------------------------------------

test('§4.2.1 item 8: Sec-WebSocket-Protocol parsed in order, repeated lines joined', () => {
  assert.deepEqual(ok(request({ p: 'Sec-WebSocket-Protocol: v2.chat ,\tv1.chat' })).protocols, ['v2.chat', 'v1.chat']);
  assert.deepEqual(ok(request({ p: 'Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b' })).protocols, ['a', 'b']);
});

test('§4.2.1 item 8: invalid or repeated subprotocol → 400', () => {
  refused(request({ p: 'Sec-WebSocket-Protocol: chat/1' }), 400, /Sec-WebSocket-Protocol/);
  refused(request({ p: 'Sec-WebSocket-Protocol: chat, chat' }), 400, /repeated/);
  refused(request({ p: 'Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: a' }), 400, /repeated/);
  refused(request({ p: 'Sec-WebSocket-Protocol: ' }), 400, /empty/);
});

test('§4.2.1 item 9: Sec-WebSocket-Extensions parsed in offer order', () => {
  const r = ok(
    request({
      x: 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10, permessage-deflate, x-custom; a="b"',
    }),
  );
  assert.deepEqual(
    r.extensions.map((e) => [e.name, [...e.params]]),
    [
      ['permessage-deflate', [['client_max_window_bits', '10']]],
      ['permessage-deflate', []],
      ['x-custom', [['a', 'b']]],
    ],
  );
});

test('§9.1: malformed Sec-WebSocket-Extensions → 400', () => {
  refused(request({ x: 'Sec-WebSocket-Extensions: permessage-deflate;' }), 400, /Sec-WebSocket-Extensions/);
  refused(request({ x: 'Sec-WebSocket-Extensions: a; b="c d"' }), 400, /Sec-WebSocket-Extensions/);
});

test('§9.1: __proto__, constructor, hasOwnProperty as extension and parameter names are plain data', () => {
  const r = ok(
    request({ x: 'Sec-WebSocket-Extensions: __proto__; constructor=1; hasOwnProperty, constructor; __proto__="x"' }),
  );
  assert.equal(r.extensions[0]!.name, '__proto__');
  assert.equal(r.extensions[0]!.params.get('constructor'), '1');
  assert.equal(r.extensions[0]!.params.get('hasOwnProperty'), true);
  assert.equal(r.extensions[1]!.params.get('__proto__'), 'x');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.equal(typeof Object.prototype.hasOwnProperty, 'function');
});

test('RFC 7230 §3.2: header names __proto__ and constructor are plain data', () => {
  const r = ok(request({ a: '__proto__: x', b: 'constructor: y' }));
  assert.equal(r.headers.get('__proto__'), 'x');
  assert.equal(r.headers.get('constructor'), 'y');
});

// --- No request body --------------------------------------------------------

test('RFC 7230 §3.3: a body on the upgrade request → 400 (it would be confused with frames)', () => {
  refused(request({ cl: 'Content-Length: 5' }), 400, /body/);
  refused(request({ te: 'Transfer-Encoding: chunked' }), 400, /body/);
  refused(request({ cl: 'Content-Length: 0\r\nContent-Length: 0' }), 400, /repeated/);
  ok(request({ cl: 'Content-Length: 0' }));
});

// --- Size bound ---------------------------------------------------------------

test('RFC 6585 §5: a head over 8 KiB → 431; exactly 8 KiB is fine', () => {
  const base = request({ pad: 'X-Pad: ' });
  const pad = 8192 - base.length;
  const exact = request({ pad: `X-Pad: ${'a'.repeat(pad)}` });
  assert.equal(exact.length, 8192);
  ok(exact);
  const over = request({ pad: `X-Pad: ${'a'.repeat(pad + 1)}` });
  assert.equal((parse(over) as HandshakeFailure).status, 431);
});

test('RFC 6585 §5: maxHeaderSize option', () => {
  const r = parse(RFC_SAMPLE, { maxHeaderSize: 100 });
  assert.equal(r.ok, false);
  assert.equal(r.status, 431);
  assert.equal(parse(RFC_SAMPLE, { maxHeaderSize: RFC_SAMPLE.length }).ok, true);
});

// --- Robustness ---------------------------------------------------------------

const STATUSES = new Set([400, 405, 426, 431, 505]);

function checkNeverThrows(buf: Uint8Array, start: number, headEnd: number, label: string): void {
  let r: UpgradeRequest | HandshakeFailure;
  try {
    r = parseUpgradeRequest(buf, start, headEnd);
  } catch (err) {
    assert.fail(`${label}: threw ${String(err)}`);
  }
  if (!r.ok) {
    assert.ok(STATUSES.has(r.status), `${label}: status ${r.status}`);
    assert.equal(typeof r.message, 'string');
  }
}

test('§4.2.1: mutated real requests (seeded) never make parseUpgradeRequest throw', () => {
  const rand = prng(6455);
  const sources = [
    RFC_SAMPLE,
    CHROME,
    FIREFOX,
    WS_NODE,
    PYTHON_WEBSOCKETS,
    request({ x: 'Sec-WebSocket-Extensions: a; b="c\\"d", e; f=g' }),
  ].map(bytes);
  let accepted = 0;
  for (let n = 0; n < 3000; n++) {
    const buf = Buffer.from(sources[n % sources.length]!);
    const edits = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < edits; e++) buf[Math.floor(rand() * (buf.length - 4))] = Math.floor(rand() * 256);
    const headEnd = findHeadEnd(buf, 0, buf.length, 0);
    if (headEnd === -1) continue;
    checkNeverThrows(buf, 0, headEnd, `case ${n}`);
    if (parseUpgradeRequest(buf, 0, headEnd).ok) accepted++;
  }
  // Some mutations land in harmless places (User-Agent text): the parser is not just refusing everything.
  assert.ok(accepted > 0);
});
