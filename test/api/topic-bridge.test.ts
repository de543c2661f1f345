import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionRecord } from '../../src/reactor/connection/connection-record.js';
import type { SendData } from '../../src/api/send-result.js';
import { NO_REMOTE_STATS, type BridgeHost, type TopicBridge } from '../../src/api/topic-bridge.js';
import { fakeReactor, type FakeReactor } from '../support/fake-link.js';

/** A bridge that records what the reactor tells it. */
function recordingBridge(): TopicBridge & { events: string[]; host: BridgeHost | null } {
  const events: string[] = [];
  const bridge = {
    events,
    host: null as BridgeHost | null,
    attached(host: BridgeHost) {
      bridge.host = host;
      events.push('attached');
    },
    detached() {
      events.push('detached');
    },
    topicOpened(topic: string) {
      events.push(`+${topic}`);
    },
    topicClosed(topic: string) {
      events.push(`-${topic}`);
    },
    published(topic: string, data: SendData, isBinary: boolean) {
      events.push(`pub ${topic} ${String(data)} ${isBinary}`);
    },
    broadcast(data: SendData) {
      events.push(`all ${String(data)}`);
    },
    stats() {
      return { ...NO_REMOTE_STATS, sent: 7 };
    },
  };
  return bridge;
}

const texts = (link: FakeReactor['link'], conn: ConnectionRecord): string[] =>
  link
    .socket(conn)
    .frames()
    .map((f) => f.payload.toString());

test("the bridge hears of a topic's first subscriber and its last leaving, not of those between; topics already subscribed at attach", () => {
  const { reactor, link } = fakeReactor();
  const [a, b] = [link.open(), link.open()];
  a.subscribe('early');
  const bridge = recordingBridge();
  reactor.attachBridge(bridge);
  assert.deepEqual(bridge.events, ['attached', '+early']);
  a.subscribe('t');
  b.subscribe('t');
  a.unsubscribe('t');
  assert.deepEqual(bridge.events.slice(2), ['+t']);
  b.terminate();
  a.close();
  assert.deepEqual(bridge.events.slice(2), ['+t', '-t']);
  assert.deepEqual([...bridge.host!.topics()], ['early']);
});

test('publish: local subscribers framed once, then the bridge; conn.publish skips its sender; broadcast goes to the bridge only with remote', () => {
  const { reactor, link } = fakeReactor();
  const [a, b, c] = [link.open(), link.open(), link.open()];
  for (const conn of [a, b]) conn.subscribe('room');
  const bridge = recordingBridge();
  reactor.attachBridge(bridge);
  assert.equal(reactor.publish('room', 'one', false), 2);
  assert.equal(a.publish('room', 'two'), 1, 'b only');
  assert.equal(c.publish('nobody', Buffer.from('x')), 0, 'no local subscriber: still carried');
  assert.deepEqual(texts(link, a), ['one']);
  assert.deepEqual(texts(link, b), ['one', 'two']);
  reactor.broadcast('local', false);
  reactor.broadcastEverywhere('all', false);
  assert.deepEqual(bridge.events.slice(2), [
    'pub room one false',
    'pub room two false',
    'pub nobody x true',
    'all all',
  ]);
  assert.equal(reactor.snapshot().remote.sent, 7, 'stats come from the bridge');
});

test('the host delivers a remote publish locally only (no echo back into the bridge); detach and attach again', () => {
  const { reactor, link } = fakeReactor();
  const a = link.open();
  a.subscribe('room');
  const bridge = recordingBridge();
  reactor.attachBridge(bridge);
  assert.throws(() => reactor.attachBridge(recordingBridge()), /already attached/);
  assert.equal(bridge.host!.deliver('room', Buffer.from('from afar'), false), 1);
  assert.equal(bridge.host!.deliver('empty', 'x', false), 0);
  assert.equal(bridge.host!.deliverToAll('to all', false), 1);
  assert.deepEqual(texts(link, a), ['from afar', 'to all']);
  assert.deepEqual(bridge.events, ['attached', '+room'], 'nothing handed back to the bridge');
  reactor.detachBridge(recordingBridge()); // not the attached one: nothing
  reactor.detachBridge(bridge);
  assert.deepEqual(bridge.events.at(-1), 'detached');
  reactor.publish('room', 'after', false);
  a.unsubscribe('room');
  assert.equal(bridge.events.length, 3, 'detached: told nothing more');
  assert.deepEqual(reactor.snapshot().remote, NO_REMOTE_STATS);
  reactor.attachBridge(recordingBridge());
});
