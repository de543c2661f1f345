import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { ClusterTopicBridge, TopicRelay, type RelayMessage } from '../../src/cluster/cluster-bridge.js';
import type { SendData } from '../../src/api/send-result.js';
import type { BridgeHost } from '../../src/api/topic-bridge.js';

/**
 * Both sides of relayTopics without processes: a worker's bridge over a fake
 * IPC channel, and the primary's relay over fake workers. (The real thing,
 * two worker processes and the chat, is test/chat/cli-chat.test.ts.)
 */

/** A worker's end of the IPC channel: what it sent, and a way to hand it what the primary sends. */
class FakeChannel extends EventEmitter {
  connected = true;
  readonly sent: RelayMessage[] = [];
  send = (message: unknown): boolean => {
    this.sent.push(structuredClone(message) as RelayMessage); // IPC copies, as JSON does
    return true;
  };
}

/** A host that records deliveries as `topic|payload|binary`. */
function recordingHost(topics: string[] = []): BridgeHost & { got: string[] } {
  const got: string[] = [];
  const show = (data: SendData, isBinary: boolean): string =>
    isBinary ? `bytes:${Buffer.from(data as Uint8Array).toString('hex')}` : String(data);
  return {
    got,
    deliver: (topic, data, isBinary) => (got.push(`${topic}|${show(data, isBinary)}`), 1),
    deliverToAll: (data, isBinary) => (got.push(`*|${show(data, isBinary)}`), 1),
    topics: () => topics.values(),
    log: () => {},
  };
}

test('a worker tells the primary of its topics and sends every publish, numbered; text as text, binary as base64, copied from the caller', () => {
  const channel = new FakeChannel();
  const bridge = new ClusterTopicBridge(channel as unknown as NodeJS.Process);
  bridge.attached(recordingHost());
  bridge.topicOpened('room:a');
  const slab = Buffer.from([1, 2, 3, 4]);
  bridge.published('room:a', slab.subarray(1, 3), true);
  slab.fill(0); // the read slab is reused: what was sent must not change
  bridge.published('room:a', 'héllo', false);
  bridge.broadcast('to all', false);
  bridge.topicClosed('room:a');
  assert.deepEqual(channel.sent, [
    { lightws: 'topic', topic: 'room:a', subscribed: true },
    { lightws: 'relay', topic: 'room:a', base64: Buffer.from([2, 3]).toString('base64'), id: 1 },
    { lightws: 'relay', topic: 'room:a', text: 'héllo', id: 2 },
    { lightws: 'relay', topic: null, text: 'to all', id: 3 },
    { lightws: 'topic', topic: 'room:a', subscribed: false },
  ]);
  const stats = bridge.stats();
  assert.deepEqual([stats.sent, stats.sentBytes, stats.channels, stats.connected], [3, 2 + 6 + 6, 0, 1]);
});

test('what the primary relays is delivered to the topic or to all; a malformed message is counted, others ignored', () => {
  const channel = new FakeChannel();
  const bridge = new ClusterTopicBridge(channel as unknown as NodeJS.Process);
  const host = recordingHost();
  bridge.attached(host);
  channel.emit('message', { lightws: 'relay', topic: 'room:a', text: 'hi' });
  channel.emit('message', { lightws: 'relay', topic: 'room:a', base64: Buffer.from([255, 0]).toString('base64') });
  channel.emit('message', { lightws: 'relay', topic: null, text: 'everyone' });
  channel.emit('message', { lightws: 'relay', topic: 'room:a', text: 42 });
  channel.emit('message', { lightws: 'stats', id: 1 }); // the cluster's own messages are not the bridge's
  assert.deepEqual(host.got, ['room:a|hi', 'room:a|bytes:ff00', '*|everyone']);
  assert.deepEqual(
    [bridge.stats().received, bridge.stats().receivedBytes, bridge.stats().malformed],
    [3, 2 + 2 + 8, 1],
  );
  bridge.detached();
  channel.emit('message', { lightws: 'relay', topic: 'room:a', text: 'after' });
  assert.equal(host.got.length, 3, 'nothing after detach');
});

test('with the primary gone, publishes stay local and are counted as dropped; detach closes the topics it has', () => {
  const channel = new FakeChannel();
  const bridge = new ClusterTopicBridge(channel as unknown as NodeJS.Process);
  bridge.attached(recordingHost(['room:a', 'room:b']));
  bridge.topicOpened('room:a');
  bridge.topicOpened('room:b');
  channel.connected = false;
  bridge.published('room:a', 'lost', false);
  assert.deepEqual([bridge.stats().dropped, bridge.stats().droppedBytes, bridge.stats().connected], [1, 4, 0]);
  channel.connected = true;
  bridge.detached();
  assert.deepEqual(channel.sent.slice(-2), [
    { lightws: 'topic', topic: 'room:a', subscribed: false },
    { lightws: 'topic', topic: 'room:b', subscribed: false },
  ]);
  assert.equal(bridge.stats().channels, 0);
});

/** Fake workers for the relay: what each was sent. */
function workers(n: number): { list: (ChildProcess | undefined)[]; inbox: unknown[][] } {
  const inbox: unknown[][] = Array.from({ length: n }, () => []);
  const list = inbox.map(
    (box) => ({ connected: true, send: (m: unknown) => void box.push(m) }) as unknown as ChildProcess,
  );
  return { list, inbox };
}

test('the primary passes a publish to the workers subscribed to its topic, never back to the sender; a broadcast to every other worker', () => {
  const { list, inbox } = workers(3);
  const relay = new TopicRelay(list);
  assert.equal(relay.handle(0, { lightws: 'topic', topic: 't', subscribed: true }), true);
  relay.handle(1, { lightws: 'topic', topic: 't', subscribed: true });
  const publish = { lightws: 'relay', topic: 't', text: 'x' };
  assert.equal(relay.handle(0, publish), true);
  assert.deepEqual(inbox, [[], [publish], []], 'worker 2 has no subscriber of t');
  relay.handle(2, publish);
  assert.deepEqual(inbox, [[publish], [publish, publish], []]);
  const all = { lightws: 'relay', topic: null, text: 'all' };
  relay.handle(1, all);
  assert.deepEqual(
    inbox.map((box) => box.at(-1)),
    [all, publish, all],
  );
  assert.equal(relay.handle(0, { lightws: 'stats', id: 3 }), false, "not the relay's");
});

test('a worker that unsubscribes, exits or is not connected gets no more of a topic', () => {
  const { list, inbox } = workers(3);
  const relay = new TopicRelay(list);
  for (const w of [0, 1, 2]) relay.handle(w, { lightws: 'topic', topic: 't', subscribed: true });
  relay.handle(1, { lightws: 'topic', topic: 't', subscribed: false });
  relay.forget(2);
  relay.handle(0, { lightws: 'relay', topic: 't', text: 'a' });
  assert.deepEqual(
    inbox.map((box) => box.length),
    [0, 0, 0],
  );
  relay.handle(2, { lightws: 'topic', topic: 't', subscribed: true }); // its replacement subscribes again
  (list[2] as unknown as { connected: boolean }).connected = false;
  relay.handle(0, { lightws: 'relay', topic: 't', text: 'b' });
  assert.deepEqual(
    inbox.map((box) => box.length),
    [0, 0, 0],
    'a disconnected worker is skipped, not written to',
  );
  (list[2] as unknown as { connected: boolean }).connected = true;
  relay.handle(0, { lightws: 'relay', topic: 't', text: 'c' });
  assert.deepEqual(inbox[2], [{ lightws: 'relay', topic: 't', text: 'c' }]);
});

test('while a slot reloads its relays go to the old worker only, numbered (its successor’s own publishes too); at the switch the successor gets those after the last the old one forwarded, then the live ones', () => {
  const { list, inbox } = workers(2);
  const oldBox: unknown[] = [];
  const old = { connected: true, send: (m: unknown) => void oldBox.push(m) } as unknown as ChildProcess;
  const relay = new TopicRelay(list);
  for (const w of [0, 1]) relay.handle(w, { lightws: 'topic', topic: 't', subscribed: true });
  relay.reloadBegins(0, old);
  relay.handle(1, { lightws: 'relay', topic: 't', text: 'a', id: 1 });
  relay.handle(0, { lightws: 'relay', topic: 't', text: 'b', id: 1 }); // the successor's (workers[0])
  relay.handle(0, { lightws: 'relay', topic: 't', text: 'c', id: 7 }, old); // the old worker's: it forwards them itself
  relay.handle(1, { lightws: 'relay', topic: 't', text: 'd', id: 2 });
  assert.deepEqual(inbox[0], [], 'nothing straight to the successor');
  assert.deepEqual(oldBox, [
    { lightws: 'relay', topic: 't', text: 'a', id: 1, seq: 1 },
    { lightws: 'relay', topic: 't', text: 'b', id: 1, own: 1, seq: 2 },
    { lightws: 'relay', topic: 't', text: 'd', id: 2, seq: 3 },
  ]);
  assert.deepEqual(
    inbox[1]!.map((m) => (m as { text: string }).text),
    ['b', 'c'],
    'the other slot has both workers’ publishes',
  );
  relay.reloaded(0, 1); // the old worker forwarded up to 1
  relay.handle(1, { lightws: 'relay', topic: 't', text: 'e', id: 3 });
  relay.handle(0, { lightws: 'relay', topic: 't', text: 'f', id: 2, own: 2 }); // held back from its adopted ones
  relay.handle(0, { lightws: 'relay', topic: 't', text: 'g', id: 3 });
  assert.deepEqual(
    JSON.parse(JSON.stringify(inbox[0])) as unknown, // as a worker reads it: what is undefined is left out
    [
      { lightws: 'relay', topic: 't', text: 'b', id: 1, own: 1 },
      { lightws: 'relay', topic: 't', text: 'd', id: 2 },
      { lightws: 'relay', topic: 't', text: 'e', id: 3 },
      { lightws: 'relay', topic: 't', text: 'f', id: 2, own: 2 },
    ],
    'the log after 1, the live one, its own marked one back to it (`seq` and the other slots’ `own` left out)',
  );
  assert.deepEqual(JSON.parse(JSON.stringify(inbox[1]!.at(-2))), { lightws: 'relay', topic: 't', text: 'f', id: 2 });
  assert.equal(oldBox.length, 3);
});

test('a reloading slot’s log is bounded: past relayMaxBufferedBytes the oldest go, and one the successor needed that went is counted as dropped', () => {
  const { list, inbox } = workers(2);
  const old = { connected: true, send: (_: unknown, written: () => void) => written() } as unknown as ChildProcess;
  const relay = new TopicRelay(list, 250); // each relay below costs 40 + 1 + 60 bytes: the log holds 2
  relay.handle(0, { lightws: 'topic', topic: 't', subscribed: true });
  relay.reloadBegins(0, old);
  for (let i = 1; i <= 5; i++) relay.handle(1, { lightws: 'relay', topic: 't', text: String(i).repeat(60) });
  relay.reloaded(0, 2); // it forwarded 1 and 2; 3 went from the log
  assert.deepEqual(
    inbox[0]!.map((m) => (m as { text: string }).text[0]),
    ['4', '5'],
  );
  assert.match(relay.metrics(), /lightws_relay_dropped_messages_total\{worker="0"\} 1/);
  relay.reloadBegins(1, old);
  relay.reloaded(1); // a failed reload: nothing resent
  assert.deepEqual(inbox[1], []);
});

test('a reloading old worker delivers each numbered relay here and forwards it, and its own publishes, down the handover channel; it reports the last number it forwarded', () => {
  const channel = new FakeChannel();
  const handover = new FakeChannel();
  const bridge = new ClusterTopicBridge(channel as unknown as NodeJS.Process);
  const host = recordingHost();
  bridge.attached(host);
  bridge.forwardTo(handover);
  channel.emit('message', { lightws: 'relay', topic: 't', text: 'a', seq: 4 });
  channel.emit('message', { lightws: 'relay', topic: 't', text: 'b', seq: 5, own: 2 }); // its successor's
  bridge.published('t', 'c', false);
  assert.deepEqual(host.got, ['t|a', 't|b'], 'every subscriber here has them');
  assert.deepEqual(handover.sent, [
    { lightws: 'handover-publish', topic: 't', text: 'a', isBinary: false },
    { lightws: 'handover-publish', topic: 't', text: 'b', isBinary: false, own: 2 },
    { lightws: 'handover-publish', topic: 't', text: 'c', isBinary: false },
  ]);
  assert.equal(bridge.forwardTo(null), 5);
  channel.emit('message', { lightws: 'relay', topic: 't', text: 'late', seq: 6 });
  assert.equal(handover.sent.length, 3, 'nothing forwarded once done: the primary sends it to the successor');
});

test("a successor holds the primary's relays until its predecessor's pipe ends; its own publishes skip the connections it adopted and reach them when they come back, until all are back", () => {
  const channel = new FakeChannel();
  const bridge = new ClusterTopicBridge(channel as unknown as NodeJS.Process);
  const host = recordingHost();
  bridge.attached(host);
  const filters: (((conn: object) => boolean) | null)[] = [];
  bridge.localFilter = (keep) => void filters.push(keep);
  const some: string[] = [];
  const moved = { name: 'moved' };
  const fresh = { name: 'fresh' };
  bridge.deliverSome = (topic, data, _isBinary, keep) =>
    void some.push(...[moved, fresh].filter(keep).map((conn) => `${topic}|${String(data)}|${conn.name}`));
  bridge.hold();
  bridge.adopted(moved);
  assert.equal(filters.length, 1);
  assert.deepEqual([filters[0]!(moved), filters[0]!(fresh)], [false, true], 'local publishes skip the adopted');
  bridge.published('t', 'mine', false);
  assert.deepEqual(channel.sent.at(-1), { lightws: 'relay', topic: 't', text: 'mine', id: 1, own: 1 });
  channel.emit('message', { lightws: 'relay', topic: 't', text: 'after the switch' });
  assert.deepEqual(host.got, [], 'held behind the pipe');
  bridge.forwarded({ lightws: 'handover-publish', topic: 't', text: 'forwarded', isBinary: false });
  bridge.forwarded({ lightws: 'handover-publish', topic: 't', text: 'mine', isBinary: false, own: 1 });
  assert.deepEqual(host.got, ['t|forwarded']);
  assert.deepEqual(some, ['t|mine|moved'], 'its own, back: to the adopted only');
  assert.equal(filters.length, 1, 'still held back until the pipe ends');
  bridge.release();
  assert.deepEqual(host.got, ['t|forwarded', 't|after the switch']);
  assert.deepEqual(filters.at(-1), null, 'every own publish back and the pipe ended: local publishes reach all again');
  bridge.published('t', 'later', false);
  assert.equal((channel.sent.at(-1) as { own?: number }).own, undefined);
});
