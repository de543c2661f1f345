import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HandoverForward } from '../../src/redis/handover-forward.js';
import { FENCE_WAIT_MS } from '../../src/redis/fence-host.js';
import { envelope, FENCE, fakeSide, originId, textOf, wired } from '../support/fence-fakes.js';

const OLD = originId(1);
const NEW = originId(2);
const REMOTE = originId(3);

test("old process: its publishes and its Redis stream go down until the fence; the new process's own come up and go back down, not from Redis; at the fence and its word, fence-seen, and the end", async () => {
  const side = fakeSide(OLD);
  const forward = new HandoverForward(side.host, side.link, NEW);
  assert.deepEqual(side.rec.subscribed, [FENCE]);
  forward.published('p:t:a', envelope(OLD, 'o1'));
  assert.equal(forward.stream('p:t:a', envelope(REMOTE, 'r1')), true, 'delivered here too');
  assert.equal(forward.stream('p:t:a', envelope(NEW, 'q1')), false, 'it comes up the channel instead');
  forward.received({ s: 'own', c: 'p:t:a', m: wired(envelope(NEW, 'q1')), n: 1 });
  assert.deepEqual(side.rec.delivered, ['p:t:a q1']);
  const finished = forward.finish();
  forward.stream(FENCE, envelope(REMOTE, 'not-the-fence')); // a stranger's: nothing
  assert.ok(forward.forwarding);
  forward.stream(FENCE, envelope(NEW, 'id'));
  assert.ok(!forward.forwarding);
  assert.equal(side.rec.renewed, 1, 'publishes from now carry a new id');
  forward.published('p:t:a', envelope(side.rec.origin, 'o2')); // after the fence: from Redis for the new process
  assert.equal(forward.stream('p:t:a', envelope(REMOTE, 'r2')), true);
  assert.equal(forward.stream('p:t:a', envelope(NEW, 'q2')), true, "the new process's after the fence: delivered here");
  forward.received({ s: 'own', c: 'p:t:a', m: wired(envelope(NEW, 'q1b')), n: 2 }); // sent up before its word
  forward.received({ s: 'fence', id: 'id' });
  await finished;
  assert.deepEqual(
    side.rec.sent.map((b) => `${b.s} ${textOf(b)}`.trim()),
    ['local o1', 'stream r1', 'back q1', 'passed', 'back q1b', 'fence-seen'],
  );
  assert.deepEqual(side.rec.unsubscribed, [FENCE]);
  assert.deepEqual([side.rec.done, side.rec.fellBack.length], [1, 0]);
});

test('old process: no subscription is left during the handover; the new process may ask for more; at the end those no local subscriber wants go', async () => {
  const side = fakeSide(OLD);
  const forward = new HandoverForward(side.host, side.link, NEW);
  side.rec.wanted.add('p:t:here');
  forward.held.add('p:t:left'); // its last local subscriber moved
  forward.received({ s: 'subscribe', c: 'p:t:here' }); // subscribed already
  forward.received({ s: 'subscribe', c: 'p:t:new' });
  forward.received({ s: 'subscribe', c: 'p:t:new' });
  assert.deepEqual(side.rec.subscribed, [FENCE, 'p:t:new']);
  forward.stream(FENCE, envelope(NEW, 'id'));
  forward.received({ s: 'fence', id: 'id' });
  assert.deepEqual(side.rec.unsubscribed.sort(), [FENCE, 'p:t:left', 'p:t:new'].sort());
});

test('old process: no fence within FENCE_WAIT_MS of the last connection: it stops forwarding, counted, under a new id', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const side = fakeSide(OLD);
  const forward = new HandoverForward(side.host, side.link, NEW);
  const finished = forward.finish();
  t.mock.timers.tick(FENCE_WAIT_MS);
  await finished;
  assert.ok(!forward.forwarding);
  assert.equal(side.rec.fellBack.length, 1);
  assert.equal(side.rec.renewed, 1);
  forward.published('p:t:a', envelope(side.rec.origin, 'late'));
  assert.equal(side.rec.sent.filter((b) => b.s === 'local').length, 0);
});

test('old process: a failed handover (the new process died) leaves it as it was: its subscriptions, nothing forwarded', () => {
  const side = fakeSide(OLD);
  const forward = new HandoverForward(side.host, side.link, NEW);
  side.rec.wanted.add('p:t:kept');
  forward.held.add('p:t:kept'); // its subscriber left, then came back (kept)
  forward.ended();
  assert.deepEqual(side.rec.unsubscribed, [FENCE]);
  assert.ok(!forward.forwarding);
  assert.equal(forward.stream('p:t:kept', envelope(NEW, 'x')), true, 'delivered as any other');
  assert.equal(side.rec.sent.length, 0);
});
