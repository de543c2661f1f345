import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyStore, MAX_DIRECTION_BYTES } from '../../src/tls/key-store.js';

test('key store: slots do not overlap, a slot given back is zeroed and reused, across chunks', () => {
  const store = new KeyStore();
  const slots = Array.from({ length: 1100 }, () => store.take());
  assert.equal(new Set(slots).size, 1100);
  slots.forEach((slot) => store.view(slot, 0, MAX_DIRECTION_BYTES).fill(slot & 0xff));
  for (const slot of slots) assert.ok(store.view(slot, 0, MAX_DIRECTION_BYTES).every((b) => b === (slot & 0xff)));
  assert.equal(store.inUse, 1100);
  store.give(slots[700]!);
  assert.equal(store.inUse, 1099);
  const again = store.take();
  assert.equal(again, slots[700]);
  assert.ok(
    store.view(again, 0, MAX_DIRECTION_BYTES).every((b) => b === 0),
    'zeroed when given back',
  );
  assert.ok(
    store.view(slots[701]!, 0, MAX_DIRECTION_BYTES).every((b) => b === (701 & 0xff)),
    'the neighbour untouched',
  );
});
