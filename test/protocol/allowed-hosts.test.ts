import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAllowed, hostName, normalizeAllowedHost } from '../../src/protocol/allowed-hosts.js';
import { resolveOptions } from '../../src/reactor/options.js';

test('hostName: the host of a Host header, lower case, without the port (RFC 9110 §7.2)', () => {
  assert.equal(hostName('Example.COM:8080'), 'example.com');
  assert.equal(hostName('localhost'), 'localhost');
  assert.equal(hostName('[::1]:9001'), '[::1]');
  assert.equal(hostName('[::1]'), '[::1]');
  assert.equal(hostName('127.0.0.1:80'), '127.0.0.1');
});

test('hostAllowed: exact names, a leading dot for a domain and what is under it, * for any, undefined for any', () => {
  const list = ['localhost', '127.0.0.1', '[::1]', '.example.com'];
  for (const host of ['localhost:9001', 'LOCALHOST', '127.0.0.1:1', '[::1]:2', 'example.com', 'a.b.example.com:443'])
    assert.equal(hostAllowed(host, list), true, host);
  for (const host of ['evil.example', 'localhost.evil', 'example.com.evil', 'badexample.com', '127.0.0.2', '[::2]', ''])
    assert.equal(hostAllowed(host, list), false, host);
  assert.equal(hostAllowed(undefined, list), false, 'no Host: not one of ours');
  assert.equal(hostAllowed('anything', ['*']), true);
  assert.equal(hostAllowed('anything', undefined), true);
  assert.equal(hostAllowed(undefined, undefined), true);
});

test('allowedHosts entries are normalized by resolveOptions: lower case, IPv6 in brackets', () => {
  assert.deepEqual(resolveOptions({ allowedHosts: ['LocalHost', '::1', '[::1]', '127.0.0.1'] }).allowedHosts, [
    'localhost',
    '[::1]',
    '[::1]',
    '127.0.0.1',
  ]);
  assert.equal(resolveOptions({}).allowedHosts, undefined);
  assert.equal(normalizeAllowedHost('.Example.COM'), '.example.com');
  assert.throws(() => resolveOptions({ allowedHosts: [] }), /^TypeError: allowedHosts must be a list of host names/);
});
