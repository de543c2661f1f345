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
