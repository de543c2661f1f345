import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { linkOf } from '../../src/redis/clients.js';

test('both libraries are recognised by their shape; anything else is a clear TypeError', async () => {
  const io = new Redis({ lazyConnect: true });
  const ioQuiet = new Redis({ lazyConnect: true, autoResubscribe: false });
  const ioNoQueue = new Redis({ lazyConnect: true, enableOfflineQueue: false });
  const node = createClient();
  assert.deepEqual([linkOf(io, 'publisher').library, linkOf(node, 'publisher').library], ['ioredis', 'node-redis']);
  assert.deepEqual(
    [
      linkOf(io, 'x').resubscribes,
      linkOf(ioQuiet, 'x').resubscribes,
      linkOf(ioNoQueue, 'x').resubscribes,
      linkOf(node, 'x').resubscribes,
    ],
    [true, false, false, true],
    'the bridge restores subscriptions itself only where the library does not',
  );
  assert.equal(linkOf(io, 'x').ready(), false, 'not connected');
  for (const bad of [null, undefined, 42, 'redis://x', {}, { status: 'ready' }, { isOpen: true, isReady: true }]) {
    assert.throws(
      () => linkOf(bad, 'subscriber'),
      /^TypeError: subscriber must be a client of 'redis' \(node-redis ≥ 4, createClient\(\)\) or of 'ioredis'/,
    );
  }
  for (const c of [io, ioQuiet, ioNoQueue]) c.disconnect();
  await linkOf(node, 'x').quit(); // never opened: nothing to do
});
