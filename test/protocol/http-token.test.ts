import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isToken, listContainsToken } from '../../src/protocol/http-token.js';

test('RFC 7230 §7: listContainsToken matches list elements case-insensitively', () => {
  assert.equal(listContainsToken('keep-alive, Upgrade', 'upgrade'), true);
  assert.equal(listContainsToken('UPGRADE', 'upgrade'), true);
  assert.equal(listContainsToken(' , ,upgrade ,', 'upgrade'), true);
  assert.equal(listContainsToken('upgrades', 'upgrade'), false);
  assert.equal(listContainsToken('keep-alive', 'upgrade'), false);
  assert.equal(listContainsToken('up grade', 'upgrade'), false);
  assert.equal(listContainsToken('', 'upgrade'), false);
});

test('RFC 7230 §3.2.6: isToken', () => {
  assert.equal(isToken("!#$%&'*+-.^_`|~09azAZ"), true);
  for (const s of ['', 'a b', 'a,b', 'a"b', 'a/b', 'é', 'a\tb', 'a=b', 'a;b'])
    assert.equal(isToken(s), false, JSON.stringify(s));
});
