import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSubprotocols, selectSubprotocol } from '../../src/protocol/subprotocol.js';

function ok(value: string): string[] {
  const r = parseSubprotocols(value);
  assert.equal(r.ok, true, r.ok ? '' : r.message);
  return (r as { protocols: string[] }).protocols;
}

function bad(value: string): string {
  const r = parseSubprotocols(value);
  assert.equal(r.ok, false, `expected ${JSON.stringify(value)} to be refused`);
  return (r as { message: string }).message;
}

test('RFC 6455 §4.1 item 10: a token list in offer order, OWS around commas', () => {
  assert.deepEqual(ok('chat'), ['chat']);
  assert.deepEqual(ok('chat, superchat'), ['chat', 'superchat']);
  assert.deepEqual(ok(' \tv2.bookings.example.net ,v1.bookings.example.net\t'), [
    'v2.bookings.example.net',
    'v1.bookings.example.net',
  ]);
  assert.deepEqual(ok("graphql-transport-ws,mqtt,wamp.2.json,!#$%&'*+-.^_`|~"), [
    'graphql-transport-ws',
    'mqtt',
    'wamp.2.json',
    "!#$%&'*+-.^_`|~",
  ]);
});

test('RFC 7230 §7: empty list elements are ignored', () => {
  assert.deepEqual(ok(',a,, ,b,'), ['a', 'b']);
});

test('RFC 6455 §4.1 item 10: names are case-sensitive, so Chat and chat are different', () => {
  assert.deepEqual(ok('chat, Chat'), ['chat', 'Chat']);
});

test('RFC 6455 §4.1 item 10: a repeated name → refused (400)', () => {
  assert.match(bad('chat, chat'), /repeated subprotocol "chat"/);
  assert.match(bad('a,b,a'), /repeated/);
});

test('RFC 7230 §3.2.6: a name that is not a token → refused (400)', () => {
  for (const v of [
    'chat/1',
    'a b',
    'a;b',
    '"chat"',
    'a=b',
    'ch\u00e4t',
    'a\x00',
    'a, b c',
    '(a)',
    'a:b',
    'a@b',
    '{a}',
  ]) {
    assert.match(bad(v), /invalid Sec-WebSocket-Protocol/, JSON.stringify(v));
  }
});

test('RFC 6455 §4.1 item 10: an empty list → refused (400)', () => {
  assert.match(bad(''), /empty list/);
  assert.match(bad(' , '), /empty list/);
});

test('RFC 6455 §4.1 item 10: 50k separators parse in linear time', () => {
  const t0 = process.hrtime.bigint();
  assert.deepEqual(ok(`a${', '.repeat(25_000)}b`), ['a', 'b']);
  bad(`a${' '.repeat(50_000)}!`);
  assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 50);
});

test("RFC 6455 §4.2.2 item 5.4: selectSubprotocol picks by the server's order, not the client's", () => {
  assert.equal(selectSubprotocol(['v2', 'v1'], ['v1', 'v2']), 'v2');
  assert.equal(selectSubprotocol(['v1', 'v2'], ['v2', 'v1']), 'v1');
  assert.equal(selectSubprotocol(['mqtt', 'chat'], ['soap', 'chat']), 'chat');
});

test('RFC 6455 §4.2.2 item 5.4: no common subprotocol → undefined (no header in the response)', () => {
  assert.equal(selectSubprotocol(['chat'], ['soap']), undefined);
  assert.equal(selectSubprotocol(['chat'], []), undefined);
  assert.equal(selectSubprotocol([], ['chat']), undefined);
  assert.equal(selectSubprotocol(['chat'], ['Chat']), undefined);
});
