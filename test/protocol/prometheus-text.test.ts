import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeLabelValue, formatFamily, formatValue } from '../../src/protocol/prometheus-text.js';
import { parseExposition } from '../support/prometheus-parser.js';

test('a family is HELP, TYPE, then its samples; label values and HELP text are escaped', () => {
  const text = formatFamily('demo_requests_total', 'counter', 'Requests,\nby "path" \\ status.', [
    { value: 1 },
    { labels: { path: 'a"b\\c\nd', status: '200' }, value: 2 },
  ]);
  assert.equal(
    text,
    '# HELP demo_requests_total Requests,\\nby "path" \\\\ status.\n' +
      '# TYPE demo_requests_total counter\n' +
      'demo_requests_total 1\n' +
      'demo_requests_total{path="a\\"b\\\\c\\nd",status="200"} 2\n',
  );
  const parsed = parseExposition(text).get('demo_requests_total')!;
  assert.equal(parsed.type, 'counter');
  assert.equal(parsed.help, 'Requests,\nby "path" \\ status.');
  assert.deepEqual(parsed.samples[1]!.labels, { path: 'a"b\\c\nd', status: '200' });
});

test('values as Go floats; names and label names are checked', () => {
  assert.deepEqual([0, 12, 1.5, NaN, Infinity, -Infinity, 2 ** 53].map(formatValue), [
    '0',
    '12',
    '1.5',
    'NaN',
    '+Inf',
    '-Inf',
    '9007199254740992',
  ]);
  assert.equal(escapeLabelValue('plain'), 'plain');
  assert.throws(() => formatFamily('9starts_with_digit', 'gauge', 'x', []), /invalid metric name/);
  assert.throws(
    () => formatFamily('ok', 'gauge', 'x', [{ labels: { 'bad-name': 'v' }, value: 1 }]),
    /invalid label name/,
  );
  assert.throws(
    () => formatFamily('ok', 'gauge', 'x', [{ labels: { __reserved: 'v' }, value: 1 }]),
    /invalid label name/,
  );
});

test('the test parser is strict: each malformed exposition is refused, naming its line', () => {
  const bad: [string, RegExp][] = [
    ['x 1', /end with a newline/],
    ['x 1\r\n', /CR/],
    ['x{a="1"} 1\nx{a="1"} 2\n', /same series twice/],
    ['x 1\n# TYPE x gauge\n', /TYPE after the samples/],
    ['# TYPE x gauge\n# TYPE x gauge\n', /second TYPE/],
    ['# TYPE x gauges\n', /unknown type/],
    ['# HELP x a \\t b\n', /bad escape/],
    ['x{a="\\t"} 1\n', /bad escape/],
    ['x{a="1} 1\n', /unterminated/],
    ['x{a="1",a="2"} 1\n', /label a twice/],
    ['x{1a="1"} 1\n', /bad label name/],
    ['x{__a="1"} 1\n', /reserved label/],
    ['x one\n', /not a float/],
    ['x 1 2.5\n', /timestamp/],
    ['x  1\n', /a value and at most a timestamp/],
    ['x 1\ny 1\nx{a="b"} 1\n', /not all together/],
    ['#comment without space\n', /a comment is # then a space/],
    ['-x 1\n', /no metric name/],
  ];
  for (const [text, why] of bad) assert.throws(() => parseExposition(text), why, JSON.stringify(text));
  // And what the format allows: comments, empty lines, timestamps, a trailing comma, NaN.
  const ok = parseExposition(
    '# a comment\n\n# TYPE h histogram\nh_bucket{le="+Inf"} 3 1700000000000\nh_sum 1.5\nh_count 3\ng{a="1",} NaN\n',
  );
  assert.equal(ok.get('h')!.samples.length, 3);
  assert.ok(Number.isNaN(ok.get('g')!.samples[0]!.value));
});
