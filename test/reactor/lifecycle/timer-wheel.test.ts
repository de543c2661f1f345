import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerWheel, type WheelEntry } from '../../../src/reactor/lifecycle/timer-wheel.js';

interface Entry extends WheelEntry {
  name: string;
  expiredAt: number;
}
const entry = (name: string): Entry => ({ name, deadline: 0, wheelTick: 0, expiredAt: 0 });

function wheel(slots = 8) {
  const expired: Entry[] = [];
  const w: TimerWheel<Entry> = new TimerWheel<Entry>(slots, (e) => {
    e.expiredAt = w.now;
    expired.push(e);
  });
  return { w, expired };
}

test('an entry expires exactly at its deadline tick', () => {
  const { w, expired } = wheel();
  const a = entry('a');
  w.schedule(a, 3);
  w.tick();
  w.tick();
  assert.equal(expired.length, 0);
  w.tick();
  assert.deepEqual(
    expired.map((e) => [e.name, e.expiredAt]),
    [['a', 4]],
  );
  assert.equal(a.deadline, 0);
  assert.equal(a.wheelTick, 0);
});

test('deadlines beyond the wheel horizon are re-filed and still expire on time', () => {
  const { w, expired } = wheel(8);
  const a = entry('a');
  w.schedule(a, 50);
  for (let i = 0; i < 49; i++) w.tick();
  assert.equal(expired.length, 0);
  w.tick();
  assert.equal(a.expiredAt, 51);
});

test('pushing a deadline later is lazy and the entry expires at the new deadline', () => {
  const { w, expired } = wheel();
  const a = entry('a');
  w.schedule(a, 2);
  w.tick();
  w.schedule(a, 5); // activity: push out
  for (let i = 0; i < 4; i++) w.tick();
  assert.equal(expired.length, 0);
  w.tick();
  assert.equal(a.expiredAt, 7);
});

test('pulling a deadline earlier re-files it; the stale copy does not fire again', () => {
  const { w, expired } = wheel();
  const a = entry('a');
  w.schedule(a, 7);
  w.schedule(a, 2);
  for (let i = 0; i < 10; i++) w.tick();
  assert.deepEqual(
    expired.map((e) => e.expiredAt),
    [3],
  );
});

test('a cancelled entry never expires', () => {
  const { w, expired } = wheel();
  const a = entry('a');
  w.schedule(a, 2);
  w.cancel(a);
  for (let i = 0; i < 20; i++) w.tick();
  assert.equal(expired.length, 0);
});

test('an entry re-armed from inside onExpire is honoured', () => {
  let fired = 0;
  const w: TimerWheel<Entry> = new TimerWheel<Entry>(4, (e) => {
    fired++;
    if (fired < 3) w.schedule(e, 2);
  });
  w.schedule(entry('a'), 1);
  for (let i = 0; i < 10; i++) w.tick();
  assert.equal(fired, 3);
});

test('10,000 entries with random deadlines each expire once, on their tick', () => {
  const { w, expired } = wheel(64);
  const entries = Array.from({ length: 10000 }, (_, i) => entry(String(i)));
  const want = new Map<Entry, number>();
  for (const e of entries) {
    const ticks = 1 + ((Number(e.name) * 7919) % 300);
    w.schedule(e, ticks);
    want.set(e, w.now + ticks);
  }
  for (let i = 0; i < 310; i++) w.tick();
  assert.equal(expired.length, 10000);
  for (const e of expired) assert.equal(e.expiredAt, want.get(e));
});

test('slots must be a power of two', () => {
  assert.throws(() => new TimerWheel(6, () => {}), RangeError);
});

test("heartbeat-like re-arming reuses the drained buckets' arrays; none holds an expired entry; idle room goes back", () => {
  // Every expiry re-arms its entry, as a heartbeat's ping does, while others are pulled earlier (a pong).
  const w: TimerWheel<Entry> = new TimerWheel<Entry>(8, (e) => {
    e.expiredAt = w.now;
    w.schedule(e, 3);
  });
  const inner = w as unknown as { buckets: ((Entry | null)[] | null)[]; free: (Entry | null)[][] };
  const arrays = (): Set<unknown> => new Set([...inner.buckets.filter((b) => b !== null), ...inner.free]);
  const entries = Array.from({ length: 300 }, (_, i) => entry(String(i)));
  for (const [i, e] of entries.entries()) w.schedule(e, 1 + (i % 3));
  for (let i = 0; i < 16; i++) w.tick(); // the wheel's arrays reach their size
  const seen = arrays();
  for (let round = 0; round < 8; round++) {
    for (let i = 0; i < 8; i++) {
      w.tick();
      for (const e of entries.slice(0, 50)) w.schedule(e, 1); // pulled earlier: a stale copy stays behind
    }
    // Emptied by length = 0, a drained bucket's backing store was dropped and the next grown
    // again by copies: garbage that, living a round, was promoted to the old generation.
    assert.deepEqual([...arrays()].filter((a) => !seen.has(a)).length, 0, `round ${round}: no new array`);
  }
  assert.ok(
    inner.free.every((b) => b.every((e) => e === null)),
    'no expired entry (a closed connection) is held',
  );
  for (const e of entries) w.cancel(e);
  for (let i = 0; i < 16; i++) w.tick();
  assert.ok(
    inner.buckets.every((b) => b === null),
    'nothing filed',
  );
  assert.equal(
    inner.free.reduce((n, b) => n + b.length, 0),
    0,
    'and no room kept for it',
  );
});
