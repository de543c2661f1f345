import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtensions, type ParsedExtension } from '../../src/protocol/extensions.js';
import { formatExtension, formatExtensions } from '../support/format-extensions.js';

function ok(value: string): ParsedExtension[] {
  const r = parseExtensions(value);
  assert.equal(r.ok, true, r.ok ? '' : r.message);
  return (r as { extensions: ParsedExtension[] }).extensions;
}

function bad(value: string): string {
  const r = parseExtensions(value);
  assert.equal(r.ok, false, `expected ${JSON.stringify(value)} to be refused`);
  return (r as { message: string }).message;
}

/** [name, [[param, value]...]] for compact assertions. */
const flat = (list: ParsedExtension[]): [string, [string, string | true][]][] =>
  list.map((e) => [e.name, [...e.params]]);

test('RFC 6455 §9.1: a single extension without parameters', () => {
  assert.deepEqual(flat(ok('permessage-deflate')), [['permessage-deflate', []]]);
});

test('RFC 7692 §7.1: permessage-deflate parameters, with and without values', () => {
  assert.deepEqual(
    flat(ok('permessage-deflate; client_max_window_bits; server_max_window_bits=10; server_no_context_takeover')),
    [
      [
        'permessage-deflate',
        [
          ['client_max_window_bits', true],
          ['server_max_window_bits', '10'],
          ['server_no_context_takeover', true],
        ],
      ],
    ],
  );
});

test('RFC 7692 §5: several offers kept in offer order, names repeated', () => {
  assert.deepEqual(
    flat(ok('permessage-deflate; client_max_window_bits=10, permessage-deflate, x-webkit-deflate-frame')),
    [
      ['permessage-deflate', [['client_max_window_bits', '10']]],
      ['permessage-deflate', []],
      ['x-webkit-deflate-frame', []],
    ],
  );
});

test('RFC 6455 §9.1: OWS around ",", ";" and "=" (implied *LWS)', () => {
  assert.deepEqual(flat(ok(' \tfoo \t; \ta \t= \t1 \t; b \t, \tbar \t')), [
    [
      'foo',
      [
        ['a', '1'],
        ['b', true],
      ],
    ],
    ['bar', []],
  ]);
  assert.deepEqual(flat(ok('foo;a=1;b,bar')), [
    [
      'foo',
      [
        ['a', '1'],
        ['b', true],
      ],
    ],
    ['bar', []],
  ]);
});

test('RFC 7230 §7: empty list elements are ignored', () => {
  assert.deepEqual(flat(ok(',, foo ,, , bar,')), [
    ['foo', []],
    ['bar', []],
  ]);
});

test('RFC 6455 §9.1: quoted-string values are unescaped', () => {
  assert.deepEqual(flat(ok('foo; a="10"; b="x\\yz"; c="\\1\\0"')), [
    [
      'foo',
      [
        ['a', '10'],
        ['b', 'xyz'],
        ['c', '10'],
      ],
    ],
  ]);
  assert.deepEqual(flat(ok('foo; a = "10" , bar')), [
    ['foo', [['a', '10']]],
    ['bar', []],
  ]);
});

test('RFC 6455 §9.1: a quoted value that is not a token after unescaping → refused', () => {
  for (const v of [
    'foo; a=""',
    'foo; a="a b"',
    'foo; a="\\""',
    'foo; a="\\\\"',
    'foo; a="x,y"',
    'foo; a="caf\u00e9"',
  ]) {
    assert.match(bad(v), /not a token/, v);
  }
});

test('RFC 7230 §3.2.6: malformed quoted-strings → refused', () => {
  assert.match(bad('foo; a="10'), /unterminated/);
  assert.match(bad('foo; a="10\\'), /escape/);
  assert.match(bad('foo; a="1\x000"'), /control/);
  assert.match(bad('foo; a="1\\\x000"'), /escape/);
  assert.match(bad('foo; a="10"x'), /unexpected character/);
  assert.match(bad('foo; a=1"0"'), /unexpected character/);
});

test('RFC 6455 §9.1: malformed lists → refused with the index of the problem', () => {
  const cases: [string, RegExp][] = [
    ['', /empty list/],
    [' , , ', /empty list/],
    ['foo;', /parameter name at index 4/],
    ['foo; ', /parameter name at index 5/],
    ['foo;;a', /parameter name at index 4/],
    ['foo; a=', /parameter value at index 7/],
    ['foo; a=;b', /parameter value/],
    ['foo; a==1', /parameter value/],
    [';a', /extension name at index 0/],
    ['foo bar', /unexpected character at index 4/],
    ['foo; a b', /unexpected character/],
    ['foo; a=1 2', /unexpected character/],
    ['foo/1', /unexpected character at index 3/],
    ['f\u00f6o', /unexpected character/],
    ['foo; a=\u00e9', /parameter value/],
    ['foo\x00', /unexpected character/],
    ['=foo', /extension name/],
  ];
  for (const [value, message] of cases) {
    const m = bad(value);
    assert.match(m, message, JSON.stringify(value));
    assert.match(m, /RFC 6455 §9\.1/);
  }
});

test('RFC 7692 §7: a repeated parameter is flagged (the offer must be declined), first value kept', () => {
  const [e] = ok('permessage-deflate; server_max_window_bits=10; server_max_window_bits=11');
  assert.equal(e!.hasDuplicateParam, true);
  assert.equal(e!.params.get('server_max_window_bits'), '10');
  assert.equal(ok('permessage-deflate; a; b')[0]!.hasDuplicateParam, false);
});

test('RFC 6455 §9.1: __proto__, constructor, hasOwnProperty as names and parameters are plain data', () => {
  const list = ok(
    '__proto__; __proto__=1; constructor; hasOwnProperty="x", constructor; prototype, hasOwnProperty; toString=2',
  );
  assert.deepEqual(flat(list), [
    [
      '__proto__',
      [
        ['__proto__', '1'],
        ['constructor', true],
        ['hasOwnProperty', 'x'],
      ],
    ],
    ['constructor', [['prototype', true]]],
    ['hasOwnProperty', [['toString', '2']]],
  ]);
  for (const e of list) {
    assert.ok(e.params instanceof Map);
    assert.equal(Object.getPrototypeOf(e.params), Map.prototype);
  }
  // Nothing leaked onto shared prototypes.
  assert.equal(Object.prototype.hasOwnProperty.call({}, 'constructor'), false);
  assert.equal(({} as Record<string, unknown>)['1'], undefined);
  assert.equal(typeof {}.hasOwnProperty, 'function');
  // A repeated __proto__ parameter is just a duplicate.
  assert.equal(ok('x; __proto__; __proto__')[0]!.hasDuplicateParam, true);
});

test('RFC 6455 §9.1: ReDoS-style inputs (50k separators) finish without catastrophic backtracking', () => {
  const inputs = [
    'a' + ' '.repeat(50_000),
    'a' + ' '.repeat(50_000) + '!',
    'a;'.repeat(25_000),
    ','.repeat(50_000),
    'a' + ';'.repeat(50_000),
    'a; b=' + '"'.padEnd(50_000, ' '),
    'a; b="' + '\\a'.repeat(25_000),
    'a' + ' ;'.repeat(25_000),
    'a' + ', '.repeat(25_000) + 'b; c',
    'a; b' + ' = '.repeat(17_000),
    `a${'; b=c'.repeat(10_000)}`,
  ];
  for (const input of inputs) {
    const t0 = process.hrtime.bigint();
    const r = parseExtensions(input);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.equal(typeof r.ok, 'boolean');
    // Linear work takes well under a millisecond; a backtracking regex takes minutes on these.
    // The bound is generous because this machine is shared: it catches blow-ups, not slowness.
    assert.ok(ms < 2000, `${ms.toFixed(1)} ms for ${JSON.stringify(input.slice(0, 20))}...`);
  }
  // The long valid ones really parsed.
  assert.equal(ok(`a${'; b=c'.repeat(10_000)}`)[0]!.hasDuplicateParam, true);
  assert.deepEqual(flat(ok('a' + ', '.repeat(25_000) + 'b; c')), [
    ['a', []],
    ['b', [['c', true]]],
  ]);
  assert.deepEqual(flat(ok('a' + ' '.repeat(50_000))), [['a', []]]);
});

test('RFC 6455 §9.1: random input never throws', () => {
  let seed = 9001;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const alphabet = 'ab=;," \t\\\x00\u00ff_-';
  for (let n = 0; n < 5000; n++) {
    let s = '';
    const len = Math.floor(rand() * 40);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    const r = parseExtensions(s);
    if (r.ok) {
      assert.ok(r.extensions.length > 0);
      // What was accepted serializes to something that parses to the same list
      // (duplicates aside, which the Map folds).
      if (r.extensions.every((e) => !e.hasDuplicateParam))
        assert.deepEqual(flat(ok(formatExtensions(r.extensions))), flat(r.extensions), JSON.stringify(s));
    } else {
      assert.equal(typeof r.message, 'string');
    }
  }
});

test('RFC 7692 §7: formatExtension writes the negotiated response value', () => {
  assert.equal(formatExtension('permessage-deflate'), 'permessage-deflate');
  assert.equal(
    formatExtension(
      'permessage-deflate',
      new Map<string, string | true>([
        ['server_no_context_takeover', true],
        ['client_max_window_bits', '10'],
      ]),
    ),
    'permessage-deflate; server_no_context_takeover; client_max_window_bits=10',
  );
  assert.equal(formatExtensions([{ name: 'a' }, { name: 'b', params: new Map([['c', 'd']]) }]), 'a, b; c=d');
  assert.throws(() => formatExtension('bad name'), TypeError);
  assert.throws(() => formatExtension('a', new Map([['b\r\nX', true]])), TypeError);
  assert.throws(() => formatExtension('a', new Map([['b', 'c d']])), TypeError);
});
