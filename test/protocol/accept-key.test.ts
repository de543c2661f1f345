import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, hash } from 'node:crypto';
import {
  acceptKey,
  acceptKeyWith,
  generateKey,
  isValidKey,
  WEBSOCKET_GUID,
  type OneShotHash,
} from '../../src/protocol/accept-key.js';

// RFC 6455 §1.3 and §4.2.2 print s3pPLMBiTxaQ9kYGzzhZRbK+xOo= for the sample
// key (also MDN, and Python's hashlib). The value "s3pPLMBiTxaQ9kYGJzOo+xo0zLk="
// quoted in our issue text is a typo and is not the SHA-1 of anything useful.
test('RFC 6455 §1.3: the sample key dGhlIHNhbXBsZSBub25jZQ== → s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  assert.notEqual(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGJzOo+xo0zLk=');
});

test('RFC 6455 §1.3: the GUID', () => {
  assert.equal(WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
});

test('RFC 6455 §4.2.2 item 5.4: accept values for other keys', () => {
  // Computed independently with Python's hashlib: base64(sha1(key + GUID)).
  assert.equal(acceptKey('x3JJHMbDL1EzLkh9GBhXDw=='), 'HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
  assert.equal(acceptKey('AQIDBAUGBwgJCgsMDQ4PEA=='), 'C/0nmHhBztSRGR1CwL6Tf4ZjwpY=');
});

test('RFC 6455 §4.1 item 7: generateKey gives 16 random bytes in base64', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const key = generateKey();
    assert.equal(key.length, 24);
    assert.equal(Buffer.from(key, 'base64').length, 16);
    assert.equal(isValidKey(key), true);
    seen.add(key);
  }
  assert.equal(seen.size, 100);
});

test('RFC 6455 §4.2.1 item 5: isValidKey accepts exactly 16 base64-encoded bytes', () => {
  assert.equal(isValidKey('dGhlIHNhbXBsZSBub25jZQ=='), true);
  assert.equal(isValidKey('++++++++++++++++++++//=='), true);
  for (const key of [
    '',
    'dGhlIHNhbXBsZSBub25jZQ', // no padding
    'dGhlIHNhbXBsZSBub25jZQ=', // 23 chars
    'dGhlIHNhbXBsZSBub25jZQ===',
    'dGhlIHNhbXBsZSBub25jZXg=', // 17 bytes
    'dGhlIHNhbXBsZSBub25j', // 15 bytes
    'dGhlIHNhbXBsZSBub25jZ-==', // base64url alphabet
    'dGhlIHNhbXBsZSBub25jZ\u00e9==',
    'dGhlIHNhbXBsZSBub25j ZQ==',
    'dGhlIHNhbXBsZSBub25jZQ=A',
  ]) {
    assert.equal(isValidKey(key), false, JSON.stringify(key));
  }
});

test('acceptKey: crypto.hash where Node has it, createHash otherwise, the same value either way', () => {
  const oneShot = hash as unknown as OneShotHash | undefined;
  assert.equal(typeof oneShot, 'function', 'Node ≥ 20.12 has crypto.hash: the fast road is the one taken here');
  let oneShotCalls = 0;
  const counting: OneShotHash = (algorithm, data, encoding) => {
    oneShotCalls++;
    return oneShot!(algorithm, data, encoding);
  };
  for (let i = 0; i < 50; i++) {
    const key = generateKey();
    const expected = createHash('sha1')
      .update(key + WEBSOCKET_GUID, 'latin1')
      .digest('base64');
    assert.equal(acceptKeyWith(undefined, key), expected, 'fallback');
    assert.equal(acceptKeyWith(counting, key), expected, 'one-shot');
    assert.equal(acceptKey(key), expected);
  }
  assert.equal(oneShotCalls, 50);
  assert.equal(acceptKeyWith(undefined, 'dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  // A non-ASCII key is hashed as latin1 bytes, as before: the one-shot hash (UTF-8) is not asked.
  const odd = 'caf\u00e9';
  assert.equal(
    acceptKeyWith(counting, odd),
    createHash('sha1')
      .update(odd + WEBSOCKET_GUID, 'latin1')
      .digest('base64'),
  );
  assert.equal(oneShotCalls, 50);
});
