import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { receiveConnections } from '../../src/handover/receiver.js';
import type { Channel, HandoverMessage } from '../../src/handover/channel.js';
import type { HandoverEndpoint } from '../../src/handover/endpoint.js';

/** A channel whose sends are recorded, and an endpoint whose adoptions are counted (or fail). */
function parts(failOn = new Set<string>()) {
  const sent: HandoverMessage[] = [];
  const channel = Object.assign(new EventEmitter(), {
    connected: true,
    send: (message: HandoverMessage) => void sent.push(message),
  }) as unknown as Channel & EventEmitter;
  const adopted: string[] = [];
  const reported: unknown[] = [];
  const endpoint = {
    adopt: (_handle: unknown, wire: string) => {
      if (failOn.has(wire)) throw new Error(`cannot adopt ${wire}`);
      adopted.push(wire);
      return {};
    },
    reactor: { reporter: { report: (error: unknown) => void reported.push(error) } },
  } as unknown as HandoverEndpoint;
  receiveConnections(endpoint, channel);
  const arrive = (id: number): void =>
    void channel.emit('message', { lightws: 'handover-conn', id, wire: `w${id}` }, { close() {} });
  const acks = (): number[][] => sent.map((m) => (m as { ids: number[] }).ids);
  return { channel, arrive, acks, adopted, reported };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('the new process acknowledges connections 16 at a time, the rest within a few ms: each id once, in order', async () => {
  const { arrive, acks, adopted } = parts();
  for (let id = 1; id <= 40; id++) arrive(id);
  // Two full acknowledgements at once, not one per connection.
  assert.deepEqual(
    acks().map((ids) => ids.length),
    [16, 16],
  );
  await sleep(30);
  assert.deepEqual(
    acks().map((ids) => ids.length),
    [16, 16, 8],
  );
  assert.deepEqual(
    acks().flat(),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  assert.equal(adopted.length, 40);
  await sleep(30);
  assert.equal(acks().length, 3, 'no empty acknowledgement afterwards');
});

test('a lone connection is acknowledged without waiting for others, and one that cannot be adopted is acknowledged too', async () => {
  const { arrive, acks, adopted, reported } = parts(new Set(['w2']));
  arrive(1);
  assert.equal(acks().length, 0);
  await sleep(30);
  assert.deepEqual(acks(), [[1]]);
  arrive(2); // its adoption throws: reported, its handle closed, and acknowledged (the old process must not keep it)
  await sleep(30);
  assert.deepEqual(acks(), [[1], [2]]);
  assert.deepEqual(adopted, ['w1']);
  assert.equal(reported.length, 1);
});
