import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandoverFence } from '../../src/redis/handover-fence.js';
import { FENCE_WAIT_MS } from '../../src/redis/fence-host.js';
import { envelope, FENCE, fakeSide, originId, textOf, wired } from '../support/fence-fakes.js';

const NEW = originId(2);
const REMOTE = originId(3);
const OLD = originId(1);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The new process's side with its fence published (after 'passed' and the acknowledgement); returns the fence id. */
async function fenced(side: ReturnType<typeof fakeSide>, fence: HandoverFence): Promise<string> {
  fence.received({ s: 'passed' });
  side.rec.acknowledge();
  await turn();
  const up = side.rec.sent.find((b) => b.s === 'fence');
  assert.ok(up !== undefined && up.s === 'fence', 'the fence went up');
  return up.id;
}

test('new process: until the fence only what the old process forwards is delivered; its own stream before the fence is dropped, after it kept and delivered at fence-seen, in order', async () => {
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  assert.deepEqual(side.rec.subscribed, [FENCE]);
  fence.stream('p:t:a', envelope(REMOTE, 'r1')); // ours, before the fence: the old process forwards it
  fence.received({ s: 'stream', c: 'p:t:a', m: wired(envelope(REMOTE, 'r1')) });
  fence.received({ s: 'local', c: 'p:t:a', m: wired(envelope(OLD, 'o1')) });
  const id = await fenced(side, fence);
  assert.deepEqual(side.rec.published, [{ channel: FENCE, text: id }], 'published on the fence channel');
  fence.stream('p:t:a', envelope(REMOTE, 'r2')); // still before our fence in our stream
  fence.stream(FENCE, envelope(REMOTE, id)); // not ours: ignored
  fence.stream(FENCE, envelope(NEW, id));
  fence.stream('p:t:a', envelope(REMOTE, 'r3')); // after it: kept
  fence.received({ s: 'stream', c: 'p:t:a', m: wired(envelope(REMOTE, 'r2')) });
  assert.deepEqual(side.rec.delivered, ['p:t:a r1', 'p:t:a o1', 'p:t:a r2']);
  assert.ok(fence.following);
  fence.received({ s: 'fence-seen' });
  assert.deepEqual(side.rec.delivered, ['p:t:a r1', 'p:t:a o1', 'p:t:a r2', 'p:t:a r3']);
  assert.ok(!fence.following);
  assert.deepEqual(side.rec.unsubscribed, [FENCE]);
  assert.deepEqual([side.rec.done, side.rec.fellBack], [1, []]);
  // Nothing forwarded late is delivered after the switch.
  fence.received({ s: 'stream', c: 'p:t:a', m: wired(envelope(REMOTE, 'r3')) });
  assert.equal(side.rec.delivered.length, 4);
});

test('new process: fence-seen before our own subscriber has the fence: our stream waits for it, and what is before it is dropped', async () => {
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  const id = await fenced(side, fence);
  fence.received({ s: 'fence-seen' });
  fence.stream('p:b', envelope(REMOTE, 'before'));
  assert.ok(fence.following);
  fence.stream(FENCE, envelope(NEW, id));
  assert.ok(!fence.following);
  assert.deepEqual(side.rec.delivered, []);
});

test('new process: the fence waits until every SUBSCRIBE is acknowledged, one made while waiting included', async () => {
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  fence.received({ s: 'passed' });
  await turn();
  side.host.subscribeChannel('p:t:x'); // made while the fence channel's is unanswered
  side.rec.acknowledge(); // the fence channel's
  await turn();
  assert.equal(side.rec.published.length, 0, 'not while one is unanswered');
  side.rec.acknowledge(); // p:t:x's
  await turn();
  assert.equal(side.rec.published.length, 1);
  assert.equal(side.rec.published[0]!.channel, FENCE);
});

test('new process: its own publishes go up numbered (and skip the adopted connections), then wait after the fence; at fence-seen they reach the adopted ones, and everyone again', async () => {
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  const adopted = {};
  const fresh = {};
  fence.adopted(adopted);
  assert.equal(side.rec.localOnly?.(adopted), false);
  assert.equal(side.rec.localOnly?.(fresh), true);
  fence.published('p:t:a', envelope(NEW, 'q1'));
  const up = side.rec.sent.filter((b) => b.s === 'own');
  assert.deepEqual(
    up.map((b) => [b.s, textOf(b), b.s === 'own' ? b.n : 0]),
    [['own', 'q1', 1]],
  );
  await fenced(side, fence);
  fence.published('p:t:a', envelope(NEW, 'q2')); // after the fence went up: waits here
  assert.equal(side.rec.sent.filter((b) => b.s === 'own').length, 1);
  fence.received({ s: 'back', c: 'p:t:a', m: wired(envelope(NEW, 'q1')), n: 1 });
  fence.received({ s: 'fence-seen' });
  assert.deepEqual(side.rec.delivered, ['p:t:a q1 adopted', 'p:t:a q2 adopted']);
  assert.equal(side.rec.localOnly, null);
});

test("new process: a topic first subscribed after the fence is published drops what the old process forwards of it (its stream starts after the fence), not the old process's own publishes", async () => {
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  fence.opened('p:t:early');
  assert.deepEqual(side.rec.sent.at(-1), { s: 'subscribe', c: 'p:t:early' });
  await fenced(side, fence);
  fence.opened('p:t:late');
  assert.equal(side.rec.sent.filter((b) => b.s === 'subscribe').length, 1, 'not asked for');
  fence.received({ s: 'stream', c: 'p:t:late', m: wired(envelope(REMOTE, 'r')) });
  fence.received({ s: 'stream', c: 'p:t:early', m: wired(envelope(REMOTE, 'e')) });
  fence.received({ s: 'local', c: 'p:t:late', m: wired(envelope(OLD, 'o')) });
  assert.deepEqual(side.rec.delivered, ['p:t:early e', 'p:t:late o']);
});

test('new process: channels left during the handover stay subscribed until the switch, then go unless wanted again', async () => {
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  fence.held.add('p:t:gone');
  fence.held.add('p:t:back');
  side.rec.wanted.add('p:t:back');
  const id = await fenced(side, fence);
  fence.stream(FENCE, envelope(NEW, id));
  fence.received({ s: 'fence-seen' });
  assert.deepEqual(side.rec.unsubscribed.sort(), [FENCE, 'p:t:gone'].sort());
});

test('new process: the old process ends the handover before fence-seen: it falls back to its own stream at once, counted', () => {
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  fence.adopted({});
  fence.published('p:t:a', envelope(NEW, 'q1')); // never back
  fence.ended();
  assert.equal(side.rec.fellBack.length, 1);
  assert.match(side.rec.fellBack[0]!, /before the fence.*1 own publishes/);
  assert.ok(!fence.following);
  assert.equal(side.rec.localOnly, null);
});

test('new process: the old process goes after our fence came here but before fence-seen: it falls back, counted, and delivers what came after the fence', async () => {
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  const id = await fenced(side, fence);
  fence.stream(FENCE, envelope(NEW, id));
  fence.stream('p:t:a', envelope(REMOTE, 'after'));
  fence.ended();
  assert.equal(side.rec.fellBack.length, 1);
  assert.deepEqual(side.rec.delivered, ['p:t:a after']);
});

test('new process: fence-seen came but our own fence does not: the wait is bounded', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate'] });
  const side = fakeSide(NEW);
  const fence = new HandoverFence(side.host, side.link, 1 << 20, () => {});
  fence.received({ s: 'passed' });
  side.rec.acknowledge();
  for (let i = 0; i < 10; i++) await Promise.resolve();
  assert.ok(side.rec.sent.some((b) => b.s === 'fence'));
  fence.received({ s: 'fence-seen' });
  fence.ended(); // the channel's end: still waiting for our fence
  assert.ok(fence.following);
  t.mock.timers.tick(FENCE_WAIT_MS);
  assert.ok(!fence.following);
  assert.match(side.rec.fellBack[0]!, /did not come within/);
});

test('new process: what it keeps after its fence is bounded: the oldest go, counted as dropped', async () => {
  const side = fakeSide(NEW);
  const dropped: number[] = [];
  const fence = new HandoverFence(side.host, side.link, 40, (bytes) => void dropped.push(bytes));
  const id = await fenced(side, fence);
  fence.stream(FENCE, envelope(NEW, id));
  for (const text of ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc']) fence.stream('p:b', envelope(REMOTE, text));
  assert.deepEqual(dropped, [10]);
  fence.received({ s: 'fence-seen' });
  assert.deepEqual(side.rec.delivered, ['p:b bbbbbbbbbb', 'p:b cccccccccc']);
});
