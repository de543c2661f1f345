import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionExtras, dropExtrasIfEmpty, extrasOf } from '../../../src/reactor/connection/connection-extras.js';

/** Every field that must keep the extras alive, set to a non-empty value. */
const KEEPERS: [string, (e: ConnectionExtras) => void][] = [
  ['head', (e) => (e.head = Buffer.alloc(1))],
  ['progress', (e) => (e.progress = {} as never)],
  ['clientKey', (e) => (e.clientKey = 'k')],
  ['inflight', (e) => (e.inflight = Buffer.alloc(1))],
  ['inflightShared', (e) => (e.inflightShared = {} as never)],
  ['outbox', (e) => (e.outbox = Buffer.alloc(1))],
  ['topics', (e) => (e.topics = new Set(['t']))],
  ['protocol', (e) => (e.protocol = 'chat')],
  ['closeCode', (e) => (e.closeCode = 1000)],
];

test('extras are created on first need and dropped only when nothing in them is worth keeping', () => {
  const holder = { extras: null as ConnectionExtras | null };
  const extras = extrasOf(holder);
  assert.equal(extrasOf(holder), extras, 'the same object until dropped');
  dropExtrasIfEmpty(holder);
  assert.equal(holder.extras, null);
  for (const [name, keep] of KEEPERS) {
    const e = extrasOf(holder);
    keep(e);
    dropExtrasIfEmpty(holder);
    assert.equal(holder.extras, e, `${name} keeps the extras`);
    holder.extras = null;
  }
});

test('bufferedAmount is what is in flight plus what waits in the outbox', () => {
  const e = new ConnectionExtras();
  e.inflightPending = 10;
  e.outboxLength = 32;
  assert.equal(e.bufferedAmount(), 42);
});
