import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { until } from '../support/servers.js';
import { startFlow } from '../support/message-flow.js';
import { reloadWorkers } from '../../src/cluster/reload.js';

const script = fileURLToPath(new URL('../support/reload-server.js', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const nodeHasReusePort = major > 22 || (major === 22 && minor >= 12);

interface Line {
  port?: number;
  pids?: number[];
  moved?: number;
  refused?: number;
  kept?: number;
  workers?: { error?: string; moved: number; kept: number }[];
  alive?: boolean;
}

function startPrimary(workers: number, options: object, env: NodeJS.ProcessEnv = {}, serverOptions: object = {}) {
  const child = spawn(
    process.execPath,
    [script, String(workers), JSON.stringify(options), JSON.stringify(serverOptions)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    },
  );
  const seen: Line[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => void seen.push(JSON.parse(line) as Line));
  const next = async (what: string, ms = 30000): Promise<Line> => {
    await until(() => seen.length > 0, ms, what);
    return seen.shift()!;
  };
  return { child, next, send: (line: string) => void child.stdin.write(`${line}\n`) };
}

interface Peer {
  ws: WebSocket;
  replies: string[];
  closes: number[];
  pings: number;
  /** The server's Sec-WebSocket-Extensions answer ('' without). */
  agreed: string;
}

function connect(port: number, count: number, options: WebSocket.ClientOptions = {}): Promise<Peer[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, options);
      const peer: Peer = { ws, replies: [], closes: [], pings: 0, agreed: '' };
      ws.once('upgrade', (response) => void (peer.agreed = response.headers['sec-websocket-extensions'] ?? ''));
      ws.on('message', (data) => void peer.replies.push(String(data)));
      ws.on('close', (code) => void peer.closes.push(code));
      ws.on('ping', () => void peer.pings++);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      return peer;
    }),
  );
}

for (const reusePort of [true, false]) {
  test(
    `primary.reload() (${reusePort ? 'SO_REUSEPORT' : 'shared socket'}): 2 workers replaced, 200 connections moved while echoing; no close, every message once and in order, conn.data carried on, heartbeats continue`,
    { skip: reusePort && !nodeHasReusePort && `Node ${process.version} has no SO_REUSEPORT` },
    async () => {
      const primary = startPrimary(2, { reusePort });
      const first = await primary.next('the primary');
      try {
        const peers = await connect(first.port!, 200);
        const flow = startFlow(peers, 5);
        await new Promise((resolve) => setTimeout(resolve, 100));
        primary.send('reload');
        const result = await primary.next('the reload');
        const after = await primary.next('the pids');
        assert.equal(result.moved, 200, JSON.stringify(result));
        assert.equal(result.refused, 0);
        assert.equal(result.kept, 0);
        for (const pid of after.pids!) assert.ok(!first.pids!.includes(pid), 'every worker replaced');
        await new Promise((resolve) => setTimeout(resolve, 200));
        const total = await flow.stop();
        await until(() => peers.every((peer) => peer.replies.length === total), 10000, 'every reply');
        for (const peer of peers) {
          peer.replies.forEach((reply, i) => {
            const [, n, text] = reply.split(' ');
            assert.equal(text, `m${i + 1}`);
            assert.equal(Number(n), i + 1);
          });
          assert.ok(after.pids!.map(String).includes(peer.replies.at(-1)!.split(' ')[0]!), 'answered by a new worker');
          assert.deepEqual(peer.closes, []);
        }
        const pings = peers.map((peer) => peer.pings);
        await new Promise((resolve) => setTimeout(resolve, 2600));
        peers.forEach((peer, i) => assert.ok(peer.pings > pings[i]!, 'pinged by the new worker'));
        assert.ok(peers.every((peer) => peer.closes.length === 0));
        primary.send('close');
        await primary.next('closed');
        await until(() => peers.every((peer) => peer.closes.length === 1), 5000, 'the 1001s');
        assert.ok(peers.every((peer) => peer.closes[0] === 1001));
      } finally {
        primary.child.kill();
      }
    },
  );
}

// 'node': LIGHTWS_HANDOVER_CHANNEL=node makes the old workers make no pipe, so their connections go through the
// primary on Node's channels (as where the internal pipe_wrap is missing).
for (const channel of ['pipe', 'node'] as const) {
  test(`primary.reload() (${channel === 'pipe' ? "the old worker's pipe" : "through the primary, Node's channels"}): permessage-deflate 'window' connections move with their inflater's window; what peers send after refers back into what they sent before`, async () => {
    const primary = startPrimary(2, {}, channel === 'node' ? { LIGHTWS_HANDOVER_CHANNEL: 'node' } : {}, {
      deflate: 'window',
      deflateThreshold: 0,
    });
    const first = await primary.next('the primary');
    try {
      const peers = await connect(first.port!, 20, {
        perMessageDeflate: { threshold: 0, serverNoContextTakeover: false, clientNoContextTakeover: false },
      });
      for (const peer of peers) assert.match(peer.agreed, /client_max_window_bits=12/);
      // Random, 2.7 KB: found again by the next message only in the 4 KiB window.
      const text = randomBytes(2048).toString('base64');
      for (const peer of peers) peer.ws.send(`a${text}`);
      await until(() => peers.every((peer) => peer.replies.length === 1), 5000, 'replies before');
      primary.send('reload');
      const result = await primary.next('the reload');
      const after = await primary.next('the pids');
      assert.deepEqual([result.moved, result.refused, result.kept], [20, 0, 0], JSON.stringify(result));
      for (const peer of peers) peer.ws.send(`b${text}`);
      for (const peer of peers) peer.ws.send('channel');
      await until(() => peers.every((peer) => peer.replies.length === 3), 5000, 'replies after');
      for (const peer of peers) {
        const [pid, n, rest] = peer.replies[1]!.split(' ');
        assert.ok(after.pids!.includes(Number(pid)), 'answered by a new worker');
        assert.deepEqual([n, rest], ['2', `b${text}`]);
        assert.equal(peer.replies[2], `channel ${channel}`);
        assert.deepEqual(peer.closes, []);
        peer.ws.terminate();
      }
    } finally {
      primary.child.kill();
    }
  });
}

test('primary.reload(): a new worker that dies halfway leaves its predecessor with every connection not yet acknowledged, listening again', async () => {
  const primary = startPrimary(1, {}, { CRASH_AFTER: '10' });
  const first = await primary.next('the primary');
  try {
    const peers = await connect(first.port!, 50);
    primary.send('reload');
    const result = await primary.next('the reload');
    const after = await primary.next('the pids');
    const slot = result.workers![0]!;
    assert.match(String(slot.error), /exited|closed the channel/);
    assert.ok(slot.kept >= 40, JSON.stringify(slot));
    assert.equal(slot.moved + slot.kept, 50);
    assert.deepEqual(after.pids, first.pids, 'the old worker is the slot worker again');
    await until(() => peers.filter((peer) => peer.closes.length > 0).length === slot.moved, 5000, 'the lost ones');
    const kept = peers.filter((peer) => peer.closes.length === 0);
    for (const peer of kept) peer.ws.send('still');
    await until(() => kept.every((peer) => peer.replies.length === 1), 5000, 'replies');
    for (const peer of kept) assert.equal(peer.replies[0], `${first.pids![0]} 1 still`);
    const [late] = await connect(first.port!, 1);
    late!.ws.send('late');
    await until(() => late!.replies.length === 1, 5000, 'the late reply');
    for (const peer of [...peers, late!]) peer.ws.terminate();
  } finally {
    primary.child.kill();
  }
});

/** A worker as the primary sees it: messages and channel events, emitted by the test. */
class FakeWorker extends EventEmitter {
  connected = true;
  readonly sent: unknown[] = [];
  send(message: unknown, _handle?: unknown, done?: () => void): boolean {
    this.sent.push(message);
    done?.();
    return true;
  }
  kill(): boolean {
    return true;
  }
}

/** A primary's host with one slot: its old worker, and a successor that starts at once. */
function oneSlot() {
  const old = new FakeWorker();
  const workers: (FakeWorker | undefined)[] = [old];
  const host = {
    workers: workers as never,
    retiring: new Set<never>(),
    reloading: new Set<number>(),
    spawn: async (index: number) => void (workers[index] = new FakeWorker()),
    relisten: async () => {},
  };
  return { old, host };
}

test("reloadWorkers: the old worker's process exiting before its last message is read is not a failed handover (the count comes from reload-done)", async () => {
  const { old, host } = oneSlot();
  const reloading = reloadWorkers(host, 10_000, 1);
  await until(() => old.sent.length > 0, 5000, 'the pipe asked for');
  old.emit('message', { lightws: 'reload-pipe' }, undefined); // no pipe: through the primary
  await until(() => old.sent.some((m) => (m as { lightws: string }).lightws === 'reload-handover'), 5000, 'handover');
  // What a busy primary sees: the process's exit first, then the message written before it, then the channel's end.
  old.connected = false;
  old.emit('exit', 0, null);
  old.emit('message', { lightws: 'reload-done', result: { moved: 7, refused: 1, kept: 0, durationMs: 3 } });
  old.emit('disconnect');
  const result = await reloading;
  assert.equal(result.workers[0]!.error, undefined);
  assert.equal(result.moved, 7);
  assert.equal(result.refused, 1);
});

test("reloadWorkers: an old worker's pipe that comes after the slot's deadline is closed, and the handover is told to go through the primary (viaPipe false)", async () => {
  const { old, host } = oneSlot();
  const reloading = reloadWorkers(host, 300, 1);
  const handover = (): { viaPipe?: boolean } | undefined =>
    old.sent.find((m) => (m as { lightws: string }).lightws === 'reload-handover') as { viaPipe?: boolean };
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(handover(), undefined, 'it waited less than the deadline for the pipe');
  await until(() => handover() !== undefined, 5000, 'the handover, without the pipe');
  assert.equal(handover()!.viaPipe, false);
  let closed = false;
  old.emit('message', { lightws: 'reload-pipe' }, { close: () => void (closed = true) }); // too late
  assert.equal(closed, true, 'the late pipe end is closed, not leaked');
  old.emit('message', { lightws: 'reload-done', result: { moved: 3, refused: 0, kept: 0, durationMs: 1 } });
  assert.equal((await reloading).moved, 3);
});

test('reloadWorkers: `concurrency` slots at a time, each next one as soon as one finishes, every slot reloaded once', async () => {
  const olds = [0, 1, 2, 3, 4].map(() => new FakeWorker());
  const workers: (FakeWorker | undefined)[] = [...olds];
  const reloading = new Set<number>();
  let most = 0;
  const host = {
    workers: workers as never,
    retiring: new Set<never>(),
    reloading,
    spawn: async (index: number) => {
      most = Math.max(most, reloading.size);
      workers[index] = new FakeWorker();
    },
    relisten: async () => {},
  };
  const asked = (w: FakeWorker, what: string): boolean =>
    w.sent.some((m) => (m as { lightws: string }).lightws === what);
  const all = reloadWorkers(host, 10_000, 2);
  const finish = async (index: number): Promise<void> => {
    const old = olds[index]!;
    await until(() => asked(old, 'reload-pipe'), 5000, `slot ${index} begun`);
    old.emit('message', { lightws: 'reload-pipe' }, undefined);
    await until(() => asked(old, 'reload-handover'), 5000, `slot ${index} handing over`);
    old.emit('message', { lightws: 'reload-done', result: { moved: index, refused: 0, kept: 0, durationMs: 1 } });
  };
  await until(() => asked(olds[0]!, 'reload-pipe') && asked(olds[1]!, 'reload-pipe'), 5000, 'two slots begun');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(asked(olds[2]!, 'reload-pipe'), false, 'a third slot began before one of the first two finished');
  await finish(1);
  await until(() => asked(olds[2]!, 'reload-pipe'), 5000, 'the third slot begun once one finished');
  assert.equal(asked(olds[3]!, 'reload-pipe'), false);
  for (const index of [0, 2, 3, 4]) await finish(index);
  const result = await all;
  assert.equal(most, 2);
  assert.equal(result.moved, 0 + 1 + 2 + 3 + 4);
  assert.deepEqual(
    result.workers.map((w) => w.moved),
    [0, 1, 2, 3, 4],
  );
  assert.ok(workers.every((w, i) => w !== olds[i]));
  for (const bad of [0, 1.5, Number.NaN, -1])
    await assert.rejects(reloadWorkers(host, 10_000, bad), RangeError, `concurrency ${bad}`);
});

test('the primary survives writes to a worker that died under them (EPIPE on its channel, twice and more): nothing thrown into the primary', async () => {
  const { child, next, send } = startPrimary(2, {});
  try {
    await next('started');
    send('kill-and-scrape');
    assert.equal((await next('alive', 15000)).alive, true);
    assert.equal(child.exitCode, null);
  } finally {
    child.kill('SIGKILL');
  }
});

for (const [workers, concurrency] of [
  [2, 2],
  [3, 1],
] as const)
  test(`primary.reload() with relayTopics, ${workers} workers ${concurrency} at a time: a numbered publish stream through the reload reaches every subscriber, on every worker, each number exactly once and in order`, async () => {
    const relay = fileURLToPath(new URL('../support/relay-reload-server.js', import.meta.url));
    const child = spawn(process.execPath, [relay, String(workers), String(concurrency)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const seen: Line[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => void seen.push(JSON.parse(line) as Line));
    const next = async (what: string): Promise<Line> => {
      await until(() => seen.length > 0, 30000, what);
      return seen.shift()!;
    };
    try {
      const { port } = await next('the primary');
      const subscribers = await connect(port!, 300);
      for (const peer of subscribers) peer.ws.send('sub');
      await until(() => subscribers.every((peer) => peer.replies.length === 1), 10000, 'subscribed');
      for (const peer of subscribers) peer.replies.length = 0;
      // Two publishers (on either worker, or both): the publishes are relayed between the workers.
      const publishers = await connect(port!, 2);
      let n = 0;
      let flowing = true;
      const stream = (async () => {
        while (flowing) {
          n++;
          publishers[n % 2]!.ws.send(`pub ${n}`);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 100));
      child.stdin.write('reload\n');
      const result = await next('the reload');
      assert.equal(result.moved, 302, JSON.stringify(result));
      await new Promise((resolve) => setTimeout(resolve, 100));
      flowing = false;
      await stream;
      // Published in turn by two connections: the order holds per publisher (odd numbers, even numbers).
      const done = (peer: Peer): boolean => peer.replies.length >= n;
      await until(() => subscribers.every(done), 10000, 'every publish').catch(() => {});
      let lost = 0;
      let extra = 0;
      let example = '';
      const wrong = subscribers.filter((peer) => {
        const got = peer.replies.map(Number);
        lost += Array.from({ length: n }, (_, i) => i + 1).filter((x) => !got.includes(x)).length;
        extra += got.length - new Set(got).size;
        const streams = [1, 0].map((parity) => got.filter((x) => x % 2 === parity));
        const ok = streams.every((stream, p) => stream.every((x, i) => x === 2 * i + 1 + p)) && got.length === n;
        if (!ok && example === '') example = streams.map((stream) => stream.join(',')).join(' | ');
        return !ok;
      });
      assert.equal(
        wrong.length,
        0,
        `${wrong.length} of 300 subscribers got a wrong stream of ${n}: ${lost} numbers lost, ${extra} more than once; the first: ${example}`,
      );
      assert.ok(subscribers.every((peer) => peer.closes.length === 0));
      for (const peer of [...subscribers, ...publishers]) peer.ws.terminate();
    } finally {
      child.kill();
    }
  });
