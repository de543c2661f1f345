import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKeylogLine } from '../../src/tls/keylog.js';
import * as v from './rfc8448.js';

test('key log lines parse; junk does not', () => {
  const line = `SERVER_TRAFFIC_SECRET_0 ${'ab'.repeat(32)} ${v.SERVER_AP_TRAFFIC.toString('hex')}\n`;
  assert.deepEqual(parseKeylogLine(Buffer.from(line)), {
    label: 'SERVER_TRAFFIC_SECRET_0',
    secret: v.SERVER_AP_TRAFFIC,
  });
  assert.equal(parseKeylogLine('CLIENT_RANDOM x'), undefined);
  assert.equal(parseKeylogLine('A B zz'), undefined);
  assert.equal(parseKeylogLine('A B abc'), undefined);
});

test('with a set of labels, a line of another label is not parsed (node:tls logs five, the watch keeps two)', () => {
  const hex = v.SERVER_AP_TRAFFIC.toString('hex');
  const labels = new Set(['SERVER_TRAFFIC_SECRET_0']);
  assert.equal(parseKeylogLine(Buffer.from(`EXPORTER_SECRET ${'ab'.repeat(32)} ${hex}\n`), labels), undefined);
  assert.equal(parseKeylogLine(`EXPORTER_SECRET ${'ab'.repeat(32)} ${hex}`, labels), undefined);
  assert.equal(parseKeylogLine('SERVER_TRAFFIC_SECRET_0', labels), undefined);
  assert.deepEqual(parseKeylogLine(Buffer.from(`SERVER_TRAFFIC_SECRET_0 ${'ab'.repeat(32)} ${hex}\n`), labels), {
    label: 'SERVER_TRAFFIC_SECRET_0',
    secret: v.SERVER_AP_TRAFFIC,
  });
});
