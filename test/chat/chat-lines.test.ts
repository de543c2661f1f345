import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanNick, MAX_NICK, oneLine } from '../../src/chat/chat-lines.js';

test('oneLine: line breaks and controls become one space, bidi controls go, so a message is one line', () => {
  assert.equal(oneLine('hi\nbob: hello'), 'hi bob: hello');
  assert.equal(oneLine('a\r\n\r\nb\u2028c\u2029d\u0085e\tf'), 'a b c d e f');
  assert.equal(oneLine('  \n padded \n '), 'padded');
  assert.equal(oneLine('abc\u202edcba\u2066x\u2069'), 'abcdcbax', 'RLO, LRI, PDI removed');
  assert.equal(oneLine('👩\u200d💻 ok'), '👩\u200d💻 ok', 'a zero-width joiner inside an emoji stays in a message');
  assert.equal(oneLine('日本語 — ü ✓'), '日本語 — ü ✓');
});

test('cleanNick: printable names only; no server-notice or other-person look-alikes', () => {
  assert.equal(cleanNick('ada'), 'ada');
  assert.equal(cleanNick('* server'), 'server', 'cannot start like a server notice');
  assert.match(cleanNick('***'), /^guest-\d{4}$/, 'nothing left: a guest name');
  assert.equal(cleanNick('bob: hi'), 'bob hi', 'no colon: cannot pass for bob saying hi');
  assert.equal(cleanNick('[you] are'), 'you are', 'cannot start like a line to one connection');
  assert.equal(cleanNick('ev\u202eil\u200b\u200c\u200d\u2060\ufeff'), 'evil', 'bidi and zero-width characters removed');
  assert.equal(cleanNick('a\nb\tc'), 'abc');
  assert.equal(cleanNick('  José   María  '), 'José María');
  assert.equal(cleanNick('名前'), '名前');
  assert.equal(cleanNick('x_y-z.1'), 'x_y-z.1');
  assert.equal(cleanNick('-leading'), 'leading', 'starts with a letter or digit');
  assert.equal(cleanNick('n'.repeat(40)).length, MAX_NICK);
  assert.match(cleanNick(null), /^guest-\d{4}$/);
  for (const nick of ['a', 'ab c', 'Ünïcode', '7'])
    assert.match(cleanNick(nick), /^[\p{L}\p{N}][\p{L}\p{M}\p{N} _.-]*$/u);
});
