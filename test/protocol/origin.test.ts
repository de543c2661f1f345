import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHeadEnd } from '../../src/protocol/http-head-end.js';
import { checkOrigin } from '../../src/protocol/origin.js';
import { prng } from '../support/prng.js';
import { parseUpgradeRequest, type UpgradeRequest } from '../../src/protocol/upgrade-request.js';

function upgradeRequest(origin: string): UpgradeRequest {
  const buf = Buffer.from(
    `GET /chat HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: ${origin}\r\n\r\n`,
    'latin1',
  );
  const r = parseUpgradeRequest(buf, 0, findHeadEnd(buf, 0, buf.length, 0));
  assert.equal(r.ok, true);
  return r;
}

test('RFC 6455 §10.2: default policy allows same-origin requests', () => {
  assert.equal(checkOrigin('https://app.example.com', 'app.example.com', undefined), true);
  assert.equal(checkOrigin('http://localhost:9001', 'localhost:9001', undefined), true);
  assert.equal(checkOrigin('http://127.0.0.1:8080', '127.0.0.1:8080', undefined), true);
  assert.equal(checkOrigin('http://[::1]:8080', '[::1]:8080', undefined), true);
  assert.equal(checkOrigin('chrome-extension://abcdef', 'abcdef', undefined), true);
});

test('RFC 6454 §6.2: default policy compares host case-insensitively', () => {
  assert.equal(checkOrigin('HTTPS://App.Example.COM', 'app.EXAMPLE.com', undefined), true);
});

test("RFC 6454 §4: default policy ignores the scheme's default port on either side", () => {
  assert.equal(checkOrigin('https://app.example.com', 'app.example.com:443', undefined), true);
  assert.equal(checkOrigin('https://app.example.com:443', 'app.example.com', undefined), true);
  assert.equal(checkOrigin('http://app.example.com', 'app.example.com:80', undefined), true);
  // 443 is not http's default port.
  assert.equal(checkOrigin('http://app.example.com', 'app.example.com:443', undefined), false);
});

test('RFC 6455 §10.2: default policy refuses cross-origin requests (403)', () => {
  assert.equal(checkOrigin('https://evil.example', 'app.example.com', undefined), false);
  assert.equal(checkOrigin('https://app.example.com.evil.example', 'app.example.com', undefined), false);
  assert.equal(checkOrigin('http://localhost:9002', 'localhost:9001', undefined), false);
  assert.equal(checkOrigin('http://localhost', 'localhost:9001', undefined), false);
  assert.equal(checkOrigin('https://app.example.com', undefined, undefined), false);
});

test('RFC 6454 §7.3: default policy refuses the null origin and malformed origins', () => {
  for (const origin of [
    'null',
    'NULL',
    '',
    'app.example.com',
    'https://',
    'https://app.example.com/',
    'https://app.example.com/path',
    'https://user@app.example.com',
    'https://app.example.com:',
    'https://app.example.com:99999',
    'https://app.example.com:8a',
    'https://app.example.com https://evil.example',
    '://app.example.com',
    '1http://app.example.com',
    'https://[::1',
    'https://[]',
  ]) {
    assert.equal(checkOrigin(origin, 'app.example.com', undefined), false, JSON.stringify(origin));
  }
});

test('RFC 6455 §4.2.1 item 7: absent Origin (non-browser client) is allowed by the default and list policies', () => {
  assert.equal(checkOrigin(undefined, 'app.example.com', undefined), true);
  assert.equal(checkOrigin(undefined, 'app.example.com', ['https://app.example.com']), true);
});

test('RFC 6454 §6.2: list policy matches exact origins, case-insensitive on scheme and host', () => {
  const allowed = ['https://example.com', 'http://localhost:3000'];
  assert.equal(checkOrigin('https://example.com', 'api.example.com', allowed), true);
  assert.equal(checkOrigin('HTTPS://EXAMPLE.COM', 'api.example.com', allowed), true);
  assert.equal(checkOrigin('https://example.com:443', 'api.example.com', allowed), true);
  assert.equal(checkOrigin('http://localhost:3000', 'api.example.com', allowed), true);
  assert.equal(checkOrigin('http://example.com', 'api.example.com', allowed), false);
  assert.equal(checkOrigin('https://sub.example.com', 'api.example.com', allowed), false);
  assert.equal(checkOrigin('http://localhost:3001', 'api.example.com', allowed), false);
  assert.equal(checkOrigin('https://example.com.evil', 'api.example.com', allowed), false);
  assert.equal(checkOrigin('null', 'api.example.com', allowed), false);
  // The list replaces the same-origin rule.
  assert.equal(checkOrigin('https://api.example.com', 'api.example.com', allowed), false);
  assert.equal(checkOrigin('https://example.com', 'api.example.com', []), false);
});

test('RFC 6454 §7.3: list policy allows null only when listed', () => {
  assert.equal(checkOrigin('null', 'a', ['null']), true);
  assert.equal(checkOrigin('null', 'a', ['https://a']), false);
});

test('RFC 6455 §10.2: list policy "*" allows every origin', () => {
  assert.equal(checkOrigin('https://anything.example', 'a', ['*']), true);
  assert.equal(checkOrigin('null', 'a', ['*']), true);
  assert.equal(checkOrigin('garbage', 'a', ['https://x', '*']), true);
});

test('RFC 6455 §4.2.1 item 7: function policy decides, and sees the whole request', () => {
  const request = upgradeRequest('https://partner.example');
  const seen: [string | undefined, string][] = [];
  const policy = (origin: string | undefined, req: UpgradeRequest): boolean => {
    seen.push([origin, req.url]);
    return origin === 'https://partner.example' && req.host === 'app.example.com';
  };
  assert.equal(checkOrigin(request.origin, request.host, policy, request), true);
  assert.equal(checkOrigin('https://other.example', request.host, policy, request), false);
  assert.equal(checkOrigin(undefined, request.host, policy, request), false);
  assert.deepEqual(seen, [
    ['https://partner.example', '/chat'],
    ['https://other.example', '/chat'],
    [undefined, '/chat'],
  ]);
  // Only a literal true allows.
  const truthy = (() => 1) as unknown as (o: string | undefined, r: UpgradeRequest) => boolean;
  assert.equal(checkOrigin(request.origin, request.host, truthy, request), false);
});

/** The same-origin check as it was, with strings (parseOrigin and parseAuthority), as the reference. */
function referenceSameOrigin(origin: string, host: string): boolean {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(origin);
  if (m === null) return false;
  const scheme = m[1]!.toLowerCase();
  const def = scheme === 'http' || scheme === 'ws' ? '80' : scheme === 'https' || scheme === 'wss' ? '443' : undefined;
  const authority = (s: string): string | undefined => {
    const a = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(?::([0-9]*))?$/s.exec(s);
    if (a === null) return undefined;
    const port = a[2];
    if (port === undefined) return a[1]!.toLowerCase();
    if (port.length === 0 || port.length > 5 || Number(port) > 65535) return undefined;
    return port !== def ? s.toLowerCase() : a[1]!.toLowerCase();
  };
  const o = authority(m[2]!);
  const h = authority(host);
  return o !== undefined && h !== undefined && o === h;
}

test('RFC 6454: the allocation-free same-origin check answers as the string-based one (seeded)', () => {
  const schemes = ['http', 'HTTPS', 'ws', 'wss', 'Http', 'ftp', 'a+b', '1x', ''];
  const hosts = [
    'example.com',
    'EXAMPLE.com',
    'a.b',
    '[::1]',
    '[::1',
    '127.0.0.1',
    'exa mple',
    '',
    'x_y~z%20',
    'h\u00e9',
  ];
  const ports = ['', ':80', ':443', ':8080', ':080', ':', ':65535', ':65536', ':123456', ':8a'];
  const random = prng(6454);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  let same = 0;
  for (let i = 0; i < 5000; i++) {
    const name = pick(hosts);
    const origin = `${pick(schemes)}${random() < 0.95 ? '://' : ':/'}${name}${pick(ports)}${random() < 0.05 ? '/path' : ''}`;
    const host = `${random() < 0.7 ? (random() < 0.5 ? name : name.toUpperCase()) : pick(hosts)}${pick(ports)}`;
    const want = referenceSameOrigin(origin, host);
    assert.equal(checkOrigin(origin, host, undefined), want, `${origin} vs ${host}`);
    if (want) same++;
  }
  assert.ok(same > 50, `both answers were exercised (${same} same-origin)`);
});

test('RFC 6454 §4: on a TLS connection the default policy compares schemes: only an https (or wss) page is same-origin', () => {
  const secure = (origin: string, host: string): boolean => checkOrigin(origin, host, undefined, undefined, true);
  assert.equal(secure('https://app.example.com', 'app.example.com'), true);
  assert.equal(secure('https://app.example.com:8443', 'app.example.com:8443'), true);
  assert.equal(secure('wss://app.example.com', 'app.example.com:443'), true);
  // A plain-http page of the same name (port 80, which a Host without a port cannot tell from 443), or of this port.
  assert.equal(secure('http://app.example.com', 'app.example.com'), false);
  assert.equal(secure('http://app.example.com:8443', 'app.example.com:8443'), false);
  assert.equal(secure('chrome-extension://abcdef', 'abcdef'), false);
  // On a plain connection both stay allowed (TLS may end at a proxy in front), as before.
  assert.equal(checkOrigin('http://app.example.com', 'app.example.com', undefined), true);
  assert.equal(checkOrigin('https://app.example.com', 'app.example.com', undefined), true);
});
