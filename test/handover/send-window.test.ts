import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendWindow } from '../../src/handover/send-window.js';

test('the send window starts at its minimum, then holds what the new process acknowledges in the target time', () => {
  const window = new SendWindow(512, 64, 50, 0);
  assert.equal(window.size, 64);
  // A fast new process: 4 acknowledgements per ms, steadily, so 200 in 50 ms.
  for (let t = 10; t <= 400; t += 10) window.acknowledged(40, t);
  assert.equal(window.size, 200);
});

test('the send window never goes past the channel maximum, nor under its minimum for a slow new process', () => {
  const fast = new SendWindow(512, 64, 50, 0);
  for (let t = 1; t <= 100; t++) fast.acknowledged(100, t);
  assert.equal(fast.size, 512);
  // A loaded machine: one acknowledgement every 20 ms; 64 stay in flight so the round trip does not set the pace.
  const slow = new SendWindow(512, 64, 50, 0);
  for (let t = 20; t <= 2000; t += 20) slow.acknowledged(1, t);
  assert.equal(slow.size, 64);
});

test('the send window follows a change of pace: a new process slowing down shrinks it', () => {
  const window = new SendWindow(512, 16, 50, 0);
  for (let t = 1; t <= 50; t++) window.acknowledged(10, t);
  assert.equal(window.size, 500);
  for (let t = 60; t <= 1000; t += 10) window.acknowledged(5, t);
  assert.equal(window.size, 25);
});

test("Node's channel: one handle per round trip, the window fixed", () => {
  const window = new SendWindow(64, 64, 50, 0);
  for (let t = 1; t <= 50; t++) window.acknowledged(1, t);
  assert.equal(window.size, 64);
});

test('by default the window holds what the new process acknowledges in 20 ms', () => {
  const window = new SendWindow(512, 64, undefined, 0);
  for (let t = 10; t <= 400; t += 10) window.acknowledged(100, t); // 10 per ms
  assert.equal(window.size, 200);
});
