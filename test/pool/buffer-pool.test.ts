import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BufferPool, MAX_CLASS, MIN_CLASS, classFor } from '../../src/pool/buffer-pool.js';
import { prng } from '../support/prng.js';

const KiB = 1024;
const MiB = 1 << 20;

test('class constants', () => {
  assert.equal(MIN_CLASS, 1024);
  assert.equal(MAX_CLASS, MiB);
});

test('class selection: smallest power of two >= max(size, 1 KiB), exact above 1 MiB', () => {
  const cases: [number, number][] = [
    [0, KiB],
    [1, KiB],
    [KiB, KiB],
    [KiB + 1, 2 * KiB],
    [65536, 65536],
    [65537, 131072],
    [MiB - 1, MiB],
    [MiB, MiB],
    [MiB + 1, MiB + 1],
  ];
  const pool = new BufferPool({ debug: true });
  for (const [size, expected] of cases) {
    assert.equal(classFor(size), expected, `classFor(${size})`);
    const buf = pool.borrow(size);
    assert.equal(buf.length, expected, `borrow(${size}).length`);
    pool.release(buf);
  }
  for (const bad of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => classFor(bad), RangeError);
    assert.throws(() => pool.borrow(bad), RangeError);
  }
});

test('class buffers own their ArrayBuffer', () => {
  const pool = new BufferPool({ debug: true });
  const buf = pool.borrow(10);
  assert.equal(buf.byteOffset, 0);
  assert.equal(buf.buffer.byteLength, buf.length);
  pool.release(buf);
});

test('release then borrow of the same class returns the same Buffer', () => {
  const pool = new BufferPool({ debug: true });
  const a = pool.borrow(3000);
  pool.release(a);
  assert.notEqual(pool.borrow(2048), a, 'a different class must not get it');
  assert.equal(pool.borrow(4096), a);
  // LIFO: the most recently released comes back first.
  const b = pool.borrow(1);
  const c = pool.borrow(1);
  pool.release(b);
  pool.release(c);
  assert.equal(pool.borrow(1), c);
  assert.equal(pool.borrow(1), b);
});

test('counters are exact through a sequence', () => {
  const pool = new BufferPool({ debug: true });
  const a = pool.borrow(100); // miss, 1 KiB
  const b = pool.borrow(5000); // miss, 8 KiB
  assert.deepEqual(pool.stats(), {
    lentBuffers: 2,
    lentBytes: 9 * KiB,
    peakLentBytes: 9 * KiB,
    retainedBuffers: 0,
    retainedBytes: 0,
    borrows: 2,
    releases: 0,
    misses: 2,
    oversize: 0,
    refusals: 0,
    foreignReleases: 0,
  });
  pool.release(b);
  pool.release(a);
  const c = pool.borrow(1024); // hit
  const d = pool.borrow(2 * MiB); // miss, oversize
  assert.deepEqual(pool.stats(), {
    lentBuffers: 2,
    lentBytes: KiB + 2 * MiB,
    peakLentBytes: KiB + 2 * MiB,
    retainedBuffers: 1,
    retainedBytes: 8 * KiB,
    borrows: 4,
    releases: 2,
    misses: 3,
    oversize: 1,
    refusals: 0,
    foreignReleases: 0,
  });
  pool.release(d);
  pool.release(c);
  const s = pool.stats();
  assert.equal(s.lentBuffers, 0);
  assert.equal(s.lentBytes, 0);
  assert.equal(s.peakLentBytes, KiB + 2 * MiB, 'peak survives releases');
  assert.equal(s.releases, 4);
  assert.equal(s.retainedBytes, 9 * KiB + 2 * MiB, 'the classes and the large one kept warm');
  assert.notEqual(pool.stats(), pool.stats(), 'stats() returns a fresh object');
});

test('maxRetainedBytes is respected', () => {
  const pool = new BufferPool({ maxRetainedBytes: 3 * KiB, debug: true });
  const a = pool.borrow(KiB);
  const b = pool.borrow(KiB);
  const c = pool.borrow(2 * KiB);
  pool.release(a);
  pool.release(b);
  pool.release(c); // 2 KiB + 2 KiB > 3 KiB: dropped
  let s = pool.stats();
  assert.equal(s.retainedBuffers, 2);
  assert.equal(s.retainedBytes, 2 * KiB);
  assert.notEqual(pool.borrow(2 * KiB), c);
  assert.equal(pool.stats().misses, 4);

  const none = new BufferPool({ maxRetainedBytes: 0, debug: true });
  none.release(none.borrow(1));
  s = none.stats();
  assert.equal(s.retainedBuffers, 0);
  assert.equal(s.retainedBytes, 0);
});

test('a handed-out buffer shared by a write goes back only when both are done, in either order', () => {
  for (const writeFirst of [true, false]) {
    const pool = new BufferPool({ debug: true });
    const message = pool.borrow(64 * KiB);
    pool.handOut(message);
    const data = message.subarray(0, 1000);
    assert.equal(pool.share(Buffer.alloc(10)), null, 'bytes elsewhere');
    assert.equal(pool.share(data.subarray(200)), message, 'bytes in it');
    assert.equal(pool.share(data), null, 'one write shares it');
    if (writeFirst) {
      pool.release(message); // the write completed within the handler
      assert.equal(pool.stats().lentBuffers, 1, 'the handler still reads it');
      const meanwhile = pool.borrow(64 * KiB);
      assert.notEqual(meanwhile, message, 'not lent again while the handler reads it');
      pool.release(meanwhile);
      pool.handBack(message);
    } else {
      pool.handBack(message);
      assert.equal(pool.stats().lentBuffers, 1, 'the write still sends from it');
      assert.equal(pool.share(data), null, 'handed back: no longer shareable');
      pool.release(message);
    }
    assert.equal(pool.stats().lentBuffers, 0);
    assert.throws(() => pool.release(message), /released twice/, 'released once');
    assert.equal(pool.borrow(64 * KiB), message, 'lent again only now');
  }
});

test('a handed-out buffer no write shares goes back at handBack; a nested one is never shared', () => {
  const pool = new BufferPool({ debug: true });
  const outer = pool.borrow(4 * KiB);
  const inner = pool.borrow(8 * KiB);
  pool.handOut(outer);
  pool.handOut(inner);
  assert.equal(pool.share(inner), null);
  pool.handBack(inner);
  assert.equal(pool.stats().lentBuffers, 1);
  assert.equal(pool.share(outer), outer);
  pool.release(outer);
  pool.handBack(outer);
  assert.equal(pool.stats().lentBuffers, 0);
  assert.throws(() => pool.release(outer), /released twice/);
  const plain = pool.borrow(KiB);
  pool.handOut(plain);
  pool.handBack(plain);
  assert.equal(pool.stats().lentBuffers, 0);
  assert.equal(pool.stats().releases, 3);
});

test('tryBorrow refuses past maxLentBytes, counts refusals, and works again after a release', () => {
  const pool = new BufferPool({ maxLentBytes: 4 * KiB, debug: true });
  const a = pool.tryBorrow(2000);
  const b = pool.tryBorrow(2048);
  assert.ok(a && b);
  assert.equal(pool.tryBorrow(1), null, 'would lend 5 KiB');
  assert.equal(pool.tryBorrow(MiB + 1), null);
  assert.equal(pool.stats().refusals, 2);
  assert.equal(pool.stats().lentBytes, 4 * KiB);
  // borrow() ignores the budget.
  const c = pool.borrow(1);
  assert.equal(pool.stats().lentBytes, 5 * KiB);
  pool.release(c);
  pool.release(a);
  const d = pool.tryBorrow(1);
  assert.ok(d);
  assert.equal(d.length, KiB);
  assert.equal(pool.stats().refusals, 2);
});

test('grow copies the used bytes and releases the old buffer', () => {
  const pool = new BufferPool({ debug: true });
  const old = pool.borrow(KiB);
  for (let i = 0; i < old.length; i++) old[i] = i & 0xff;
  const grown = pool.grow(old, 700, 5000);
  assert.equal(grown.length, 8 * KiB);
  for (let i = 0; i < 700; i++) assert.equal(grown[i], i & 0xff, `byte ${i}`);
  const s = pool.stats();
  assert.equal(s.lentBuffers, 1);
  assert.equal(s.lentBytes, 8 * KiB);
  assert.equal(s.peakLentBytes, 8 * KiB, 'the peak counts the net size');
  assert.equal(s.releases, 1);
  assert.equal(s.retainedBytes, KiB);
  assert.throws(() => pool.release(old), /released twice/);
  assert.equal(old[0], 0xdd, 'debug mode poisons released buffers');
  assert.equal(pool.borrow(1), old);

  assert.equal(pool.grow(grown, 10, 8 * KiB), grown, 'already big enough');
  assert.throws(() => pool.grow(grown, 20, 10), RangeError, 'used > newSize');
  assert.throws(() => pool.grow(grown, 8 * KiB + 1, MiB), RangeError, 'used > length');
  const huge = pool.grow(grown, 8 * KiB, MiB + 5);
  assert.equal(huge.length, MiB + 5);
  assert.equal(huge[3], 3);
  assert.equal(pool.stats().oversize, 1);
});

test('tryGrow checks the net size against the budget and keeps the buffer on refusal', () => {
  const pool = new BufferPool({ maxLentBytes: 6 * KiB, debug: true });
  const other = pool.borrow(2 * KiB);
  const buf = pool.borrow(KiB);
  buf[0] = 42;
  const grown = pool.tryGrow(buf, 1, 4 * KiB); // net 2 + 4 = 6 KiB
  assert.ok(grown);
  assert.equal(grown[0], 42);
  assert.equal(pool.tryGrow(grown, 1, 5 * KiB), null); // net 2 + 8 KiB
  assert.equal(pool.stats().refusals, 1);
  assert.equal(pool.stats().lentBytes, 6 * KiB);
  pool.release(grown); // still lent after the refusal
  pool.release(other);
  assert.equal(pool.stats().lentBuffers, 0);
});

test('debug: double release throws', () => {
  const pool = new BufferPool({ debug: true });
  const buf = pool.borrow(1);
  pool.release(buf);
  assert.throws(() => pool.release(buf), { message: 'buffer released twice or not from this pool' });
  assert.equal(pool.stats().releases, 1);
  assert.equal(pool.stats().retainedBuffers, 1);
});

test('debug: a foreign buffer throws, even one that looks like a class size', () => {
  const pool = new BufferPool({ debug: true });
  const mine = pool.borrow(1); // lentBuffers > 0 so only the Set can tell
  const foreign = [Buffer.alloc(1024), Buffer.allocUnsafeSlow(2048), Buffer.alloc(100), new BufferPool().borrow(1)];
  for (const buf of foreign) {
    assert.throws(() => pool.release(buf), /not from this pool/);
    assert.throws(() => pool.grow(buf, 0, 4096), /not from this pool/);
    assert.throws(() => pool.grow(buf, 0, 10), /not from this pool/, 'even when no growth is needed');
  }
  const s = pool.stats();
  assert.equal(s.lentBuffers, 1, 'a failed grow must not leak a new buffer');
  assert.equal(s.retainedBuffers, 0);
  pool.release(mine);
});

test('debug: tryGrow of a foreign buffer throws even when the budget would refuse', () => {
  const pool = new BufferPool({ maxLentBytes: 2 * KiB, debug: true });
  assert.throws(() => pool.tryGrow(Buffer.alloc(1024), 0, MiB), /not from this pool/);
  assert.equal(pool.stats().refusals, 0);
});

test('debug defaults from LIGHTWS_POOL_DEBUG', () => {
  const saved = process.env['LIGHTWS_POOL_DEBUG'];
  try {
    process.env['LIGHTWS_POOL_DEBUG'] = '1';
    assert.equal(new BufferPool().debug, true);
    assert.equal(new BufferPool({ debug: false }).debug, false);
    delete process.env['LIGHTWS_POOL_DEBUG'];
    assert.equal(new BufferPool().debug, false);
  } finally {
    if (saved === undefined) delete process.env['LIGHTWS_POOL_DEBUG'];
    else process.env['LIGHTWS_POOL_DEBUG'] = saved;
  }
});

test('non-debug: a buffer that cannot be ours is ignored and counted', () => {
  const pool = new BufferPool({ debug: false });
  pool.release(Buffer.alloc(1024)); // nothing lent: cannot be ours
  const held = pool.borrow(1);
  const foreign = [
    Buffer.alloc(1000), // not a class size
    Buffer.alloc(3 * KiB), // not a power of two
    Buffer.alloc(512), // below the smallest class
    Buffer.allocUnsafe(1024), // a slice of Node's shared pool
    Buffer.allocUnsafeSlow(4096).subarray(0, 2048), // a view into a larger ArrayBuffer
  ];
  for (const buf of foreign) pool.release(buf);
  const s = pool.stats();
  assert.equal(s.foreignReleases, foreign.length + 1);
  assert.equal(s.releases, 0);
  assert.equal(s.retainedBuffers, 0);
  assert.equal(s.lentBuffers, 1);
  assert.equal(s.lentBytes, KiB);
  pool.release(held);
  assert.equal(pool.borrow(1), held, 'the free list holds only the real buffer');
});

test('balanced after a random borrow/release sequence', () => {
  const rand = prng(0x5eed);
  const pool = new BufferPool({ maxRetainedBytes: 4 * MiB, debug: true });
  const held: Buffer[] = [];
  const identities = new Set<Buffer>();
  for (let i = 0; i < 20000; i++) {
    if (held.length === 0 || rand() < 0.55) {
      const r = rand();
      const size = r < 0.01 ? MiB + Math.floor(rand() * KiB) : Math.floor(rand() * rand() * 300 * KiB);
      const buf = rand() < 0.1 && held.length > 0 ? pool.grow(held.pop()!, 0, size) : pool.borrow(size);
      assert.ok(buf.length >= size);
      held.push(buf);
    } else {
      const j = Math.floor(rand() * held.length);
      const buf = held[j]!;
      held[j] = held[held.length - 1]!;
      held.pop();
      pool.release(buf);
    }
    // No buffer is ever lent to two holders at once.
    if (i % 100 === 0) {
      identities.clear();
      for (const buf of held) identities.add(buf);
      assert.equal(identities.size, held.length);
    }
  }
  assert.equal(pool.stats().lentBuffers, held.length);
  for (const buf of held) pool.release(buf);
  const s = pool.stats();
  assert.equal(s.lentBuffers, 0);
  assert.equal(s.lentBytes, 0);
  assert.equal(s.borrows, s.releases);
  assert.ok(s.retainedBytes <= 4 * MiB);
  assert.ok(s.misses < s.borrows / 2, `pool reused buffers (${s.misses} misses / ${s.borrows})`);
  pool.trim();
  assert.equal(pool.stats().retainedBuffers, 0);
  assert.equal(pool.stats().retainedBytes, 0);
  assert.equal(pool.borrow(1).length, KiB, 'usable after trim');
});

test('steady state: 1e6 borrow/release cycles allocate nothing after warm-up', () => {
  const pool = new BufferPool({ debug: false });
  const sizes = [1, 1500, 4096, 20000, 65536];
  const cycle = (i: number): void => {
    const a = pool.borrow(sizes[i % sizes.length]!);
    const b = pool.borrow(sizes[(i + 2) % sizes.length]!);
    pool.release(a);
    pool.release(b);
  };
  for (let i = 0; i < 100; i++) cycle(i);
  const warm = pool.stats();
  // The free lists are private; reading their backing arrays here checks they do not grow.
  const free = (pool as unknown as { free: unknown[][] }).free;
  const capacity = free.map((list) => list.length);
  for (let i = 0; i < 1e6; i++) cycle(i);
  const s = pool.stats();
  assert.equal(s.misses, warm.misses, 'no allocation after warm-up');
  assert.equal(s.retainedBuffers, warm.retainedBuffers);
  assert.equal(s.retainedBytes, warm.retainedBytes);
  assert.equal(s.lentBuffers, 0);
  assert.deepEqual(
    free.map((list) => list.length),
    capacity,
    'free-list arrays stay the same length',
  );
  assert.ok(capacity.every((n) => n <= 2));
});

test('the pool holds no reference to a lent buffer, nor to retained ones after trim', async () => {
  // Forcing a GC needs --expose-gc, which node --test does not pass; turning it on at run time works.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const settle = async (): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets are kept until the job ends
    gc();
  };
  const pool = new BufferPool({ debug: false });
  const refs = ((): { leaked: WeakRef<Buffer>; retained: WeakRef<Buffer> } => {
    pool.release(pool.borrow(1));
    const leaked = pool.borrow(1); // popped from the free list, then never released
    const kept = pool.borrow(8 * KiB);
    pool.release(kept);
    return { leaked: new WeakRef(leaked), retained: new WeakRef(kept) };
  })();
  await settle();
  assert.equal(refs.leaked.deref(), undefined, 'a lent buffer must not be pinned by its old free-list slot');
  assert.ok(refs.retained.deref(), 'control: a retained buffer stays alive');
  pool.trim();
  await settle();
  assert.equal(refs.retained.deref(), undefined, 'trim drops retained buffers');
});

const QUIET_TICKS = 10; // buffer-pool.ts: seconds with nothing lent before the free lists go

test('tick: the retained buffers are dropped after QUIET_TICKS with nothing lent, kept while anything is', () => {
  const pool = new BufferPool();
  const held = pool.borrow(4096);
  pool.release(pool.borrow(64 * 1024));
  for (let i = 0; i < 2 * QUIET_TICKS; i++) pool.tick();
  assert.equal(pool.stats().retainedBytes, 64 * 1024, 'something is lent: the server is busy, the free lists stay');
  pool.release(held);
  for (let i = 0; i < QUIET_TICKS - 1; i++) pool.tick();
  assert.equal(pool.stats().retainedBytes, 64 * 1024 + 4096, 'not yet');
  pool.tick();
  assert.equal(pool.stats().retainedBytes, 0, 'quiet for QUIET_TICKS: given back');
  assert.equal(pool.stats().retainedBuffers, 0);
});
