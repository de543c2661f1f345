import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { RawClient } from '../support/raw-client.js';
import { Opcode } from '../../src/protocol/opcode.js';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { TRANSPORTS, until } from '../support/servers.js';
import { startFlow } from '../support/message-flow.js';
import { createClient } from '../../src/index.js';
import { randomBytes } from 'node:crypto';

const script = fileURLToPath(new URL('../support/handover-server.js', import.meta.url));

interface Line {
  port?: number;
  pid?: number;
  successor?: boolean;
  moved?: number;
  refused?: number;
  kept?: number;
  movedHook?: number;
  error?: string;
  connections?: number;
  adopted?: number;
  published?: number;
  pipe?: boolean;
  inflated?: number;
}

/** The fixture server as a process: its lines (the old one's and, after a handover, its successor's), and stdin. */
function startServer(transport: string, options: object = {}, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [script, transport, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const seen: Line[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => void seen.push(JSON.parse(line) as Line));
  const wait = async (match: (line: Line) => boolean, what: string): Promise<Line> => {
    await until(() => seen.some(match), 15000, what);
    const i = seen.findIndex(match);
    return seen.splice(i, 1)[0]!;
  };
  const send = (line: string): void => void child.stdin.write(`${line}\n`);
  return { child, wait, send };
}

/** Kills what is left: the successor runs detached from the test's child once the handover is done. */
function kill(...pids: (number | undefined)[]): void {
  for (const pid of pids) {
    try {
      if (pid !== undefined) process.kill(pid);
    } catch {
      // already gone
    }
  }
}

interface Peer {
  ws: WebSocket;
  replies: string[];
  closes: number[];
  pings: number;
  /** The server's Sec-WebSocket-Extensions answer ('' without). */
  agreed: string;
}

async function connect(port: number, count: number, options: WebSocket.ClientOptions = {}): Promise<Peer[]> {
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

// 'node': LIGHTWS_HANDOVER_CHANNEL=node makes no pipe, so the connections take Node's own channel (as where
// the internal pipe_wrap is missing).
for (const transport of TRANSPORTS)
  for (const channel of ['pipe', 'node'] as const) {
    test(`server.handover() (${transport}, ${channel === 'pipe' ? 'a pipe of its own' : "Node's channel"}): every connection moves to a new process while messages flow; none closes, none loses, duplicates or reorders a message; conn.data and topics move`, async () => {
      const server = startServer(
        transport,
        { pingIntervalMs: 1000, idleTimeoutMs: 3000 },
        channel === 'node' ? { LIGHTWS_HANDOVER_CHANNEL: 'node' } : {},
      );
      const first = await server.wait((l) => l.port !== undefined && l.successor === false, 'the server listening');
      let successorPid: number | undefined;
      try {
        const peers = await connect(first.port!, 50);
        peers[0]!.ws.send('sub:news');
        await until(() => peers[0]!.replies.length === 1, 5000, 'subscribed');
        // Messages flow from every peer through the handover: one every 2 ms each.
        const flow = startFlow(peers, 2);
        await new Promise((resolve) => setTimeout(resolve, 100));
        server.send('handover');
        const result = await server.wait((l) => l.moved !== undefined || l.error !== undefined, 'the handover result');
        assert.equal(result.error, undefined);
        const next = await server.wait((l) => l.successor === true, 'the successor');
        successorPid = next.pid;
        assert.equal(next.port, first.port, 'the successor serves the same listening socket');
        assert.equal(next.pipe, channel === 'pipe', 'the connections came the way asked');
        assert.equal(result.moved, 50);
        assert.equal(result.refused, 0);
        assert.equal(result.kept, 0);
        assert.equal(result.movedHook, 50);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const total = await flow.stop();
        for (const peer of peers) {
          const expected = peer === peers[0] ? total + 1 : total;
          await until(() => peer.replies.length === expected, 10000, 'every reply');
        }
        // Each peer's replies: every message once, in order, numbered by conn.data without a gap, from both processes.
        for (const peer of peers) {
          const messages = peer === peers[0] ? peer.replies.slice(1) : peer.replies;
          const offset = peer === peers[0] ? 1 : 0;
          const pids = new Set<string>();
          messages.forEach((reply, i) => {
            const [pid, n, text] = reply.split(' ');
            pids.add(pid!);
            assert.equal(text, `m${i + 1}`);
            assert.equal(Number(n), i + 1 + offset);
          });
          assert.deepEqual([...pids], [String(first.pid), String(successorPid)]);
          assert.deepEqual(peer.closes, []);
        }
        // The topic moved with its subscriber.
        const published = (await (await fetch(`http://127.0.0.1:${first.port}/publish?t=news&x=hello`)).json()) as Line;
        assert.equal(published.published, 1);
        await until(() => peers[0]!.replies.at(-1) === 'hello', 5000, 'the publish');
        // Heartbeats go on in the new process (pingIntervalMs 1000: the peers are silent now).
        const pings = peers.map((peer) => peer.pings);
        await new Promise((resolve) => setTimeout(resolve, 2600));
        peers.forEach((peer, i) => assert.ok(peer.pings > pings[i]!, 'pinged by the new process'));
        const stats = (await (await fetch(`http://127.0.0.1:${first.port}/`)).json()) as Line;
        assert.equal(stats.pid, successorPid);
        assert.equal(stats.connections, 50);
        assert.equal(stats.adopted, 50);
        for (const peer of peers) peer.ws.close();
        await until(() => peers.every((peer) => peer.closes.length === 1), 5000, 'closed');
        assert.deepEqual(
          peers.map((peer) => peer.closes[0]),
          peers.map(() => 1005),
        );
      } finally {
        kill(server.child.pid, successorPid);
      }
    });
  }

/** Starts the fixture, hands over, returns the old and the new process's first lines and the result. */
async function handOver(server: ReturnType<typeof startServer>): Promise<{ result: Line; next: Line }> {
  server.send('handover');
  const result = await server.wait((l) => l.moved !== undefined || l.error !== undefined, 'the handover result');
  const next = await server.wait((l) => l.successor === true, 'the successor');
  return { result, next };
}

const BIG = 'y'.repeat(3000);

for (const transport of TRANSPORTS) {
  test(`handover (${transport}), permessage-deflate 'shared': compressed messages both ways, before and after the move`, async () => {
    const server = startServer(transport, { deflate: 'shared' });
    const first = await server.wait((l) => l.successor === false, 'listening');
    let successorPid: number | undefined;
    try {
      const peers = await connect(first.port!, 10, { perMessageDeflate: { threshold: 0 } });
      for (const peer of peers) assert.match(String(peer.ws.extensions), /permessage-deflate/);
      for (const peer of peers) peer.ws.send(`a${BIG}`);
      await until(() => peers.every((peer) => peer.replies.length === 1), 5000, 'replies before');
      const { result, next } = await handOver(server);
      successorPid = next.pid;
      assert.equal(result.moved, 10);
      for (const peer of peers) peer.ws.send(`b${BIG}`);
      await until(() => peers.every((peer) => peer.replies.length === 2), 5000, 'replies after');
      for (const peer of peers) {
        assert.equal(peer.replies[0], `${first.pid} 1 a${BIG}`);
        assert.equal(peer.replies[1], `${successorPid} 2 b${BIG}`);
        assert.deepEqual(peer.closes, []);
        peer.ws.terminate();
      }
    } finally {
      kill(server.child.pid, successorPid);
    }
  });

  test(`handover (${transport}), permessage-deflate 'window' (context takeover both ways): what the ws client and lightws's client send after the move refers back into what they sent before it; a compressed message cut by the move is finished; the new process's fresh compressor is read on`, async () => {
    for (const bits of [12, 15]) {
      const server = startServer(transport, { deflate: 'window', deflateThreshold: 0, deflateWindowBits: bits });
      const first = await server.wait((l) => l.successor === false, 'listening');
      let successorPid: number | undefined;
      const closes: number[] = [];
      const client = createClient<string[]>({
        logLevel: 'silent',
        deflate: 'window',
        deflateThreshold: 0,
        deflateWindowBits: bits,
        message: (conn, data) => void conn.data.push(String(data)),
        close: (_conn, code) => void closes.push(code),
      });
      try {
        // Random (incompressible alone), 2/3 of the window: found again only in the window of the message before.
        const text = randomBytes(1 << (bits - 1)).toString('base64');
        const half = text.length >> 1;
        const wsOptions = {
          perMessageDeflate: { threshold: 0, serverNoContextTakeover: false, clientNoContextTakeover: false },
        };
        const peers = await connect(first.port!, 5, wsOptions);
        const [cutter] = await connect(first.port!, 1, wsOptions);
        const own = await Promise.all(
          Array.from({ length: 5 }, () => client.connect(`ws://127.0.0.1:${first.port}/`, { data: [] })),
        );
        for (const peer of [...peers, cutter!]) {
          assert.match(peer.agreed, new RegExp(`client_max_window_bits=${bits}`));
          assert.doesNotMatch(peer.agreed, /no_context_takeover/);
        }
        for (const peer of [...peers, cutter!]) peer.ws.send(`a${text}`);
        for (const conn of own) conn.send(`a${text}`);
        await until(
          () => [...peers, cutter!].every((p) => p.replies.length === 1) && own.every((c) => c.data.length === 1),
          5000,
          'replies before',
        );
        // A compressed message whose first fragment the old process reads, and its last the new one.
        cutter!.ws.send(`b${text.slice(0, half)}`, { fin: false });
        await new Promise((resolve) => setTimeout(resolve, 150));
        const { result, next } = await handOver(server);
        successorPid = next.pid;
        assert.deepEqual([result.moved, result.refused, result.kept], [11, 0, 0]);
        const packed = client.stats().deflate.bytesAfterCompression;
        cutter!.ws.send(text.slice(half), { fin: true });
        for (const peer of peers) peer.ws.send(`b${text}`);
        for (const conn of own) conn.send(`b${text}`);
        await until(
          () => [...peers, cutter!].every((p) => p.replies.length === 2) && own.every((c) => c.data.length === 2),
          5000,
          'replies after',
        );
        const expected = [`${first.pid} 1 a${text}`, `${successorPid} 2 b${text}`];
        for (const peer of [...peers, cutter!]) assert.deepEqual(peer.replies, expected);
        for (const conn of own) assert.deepEqual(conn.data, expected);
        // Each of our client's messages after the move was a back reference, not the text again.
        const perMessage = (client.stats().deflate.bytesAfterCompression - packed) / own.length;
        assert.ok(perMessage < text.length / 4, `${perMessage} bytes per message after the move`);
        // Every reply came compressed (the old compressor's, then the new one's) and inflated here.
        assert.equal(client.stats().deflate.messagesInflated, 2 * own.length);
        const stats = (await (await fetch(`http://127.0.0.1:${first.port}/`)).json()) as Line;
        assert.deepEqual([stats.pid, stats.inflated], [successorPid, 11], 'inflated by the new process');
        for (const peer of [...peers, cutter!]) assert.deepEqual(peer.closes, []);
        assert.deepEqual(closes, []);
        for (const peer of [...peers, cutter!]) peer.ws.terminate();
      } finally {
        await client.close({ timeoutMs: 500 });
        kill(server.child.pid, successorPid);
      }
    }
  });

  test(`handover (${transport}): a partial frame and a fragmented message started in the old process are finished in the new one`, async () => {
    const server = startServer(transport);
    const first = await server.wait((l) => l.successor === false, 'listening');
    let successorPid: number | undefined;
    try {
      const partial = await RawClient.open(first.port!);
      const fragmented = await RawClient.open(first.port!);
      const text = 'p'.repeat(300);
      const frame = partial.frame(Opcode.Text, text);
      partial.write(frame.subarray(0, 100)); // header and part of the payload
      fragmented.send(Opcode.Text, 'first-', false);
      await new Promise((resolve) => setTimeout(resolve, 100)); // both read in the old process
      const { result, next } = await handOver(server);
      successorPid = next.pid;
      assert.equal(result.moved, 2);
      partial.write(frame.subarray(100));
      fragmented.send(Opcode.Continuation, 'second', true);
      const [a] = await partial.frameCount(1);
      const [b] = await fragmented.frameCount(1);
      assert.equal(a!.payload.toString(), `${successorPid} 1 ${text}`);
      assert.equal(b!.payload.toString(), `${successorPid} 1 first-second`);
      partial.destroy();
      fragmented.destroy();
    } finally {
      kill(server.child.pid, successorPid);
    }
  });

  test(`handover (${transport}): a connection whose writes the kernel has not taken moves once they are out, in order`, async () => {
    const server = startServer(transport);
    const first = await server.wait((l) => l.successor === false, 'listening');
    let successorPid: number | undefined;
    try {
      const [peer] = await connect(first.port!, 1);
      peer!.ws.pause(); // reads nothing: the flood stays queued in the old process
      peer!.ws.send('flood:500');
      await new Promise((resolve) => setTimeout(resolve, 300));
      server.send('handover');
      await new Promise((resolve) => setTimeout(resolve, 300));
      peer!.ws.resume();
      const result = await server.wait((l) => l.moved !== undefined || l.error !== undefined, 'the handover result');
      successorPid = (await server.wait((l) => l.successor === true, 'the successor')).pid;
      assert.equal(result.moved, 1);
      peer!.ws.send('after');
      await until(() => peer!.replies.length === 502, 10000, 'every message');
      peer!.replies.slice(0, 500).forEach((reply, i) => assert.ok(reply.startsWith(`flood ${i + 1} `)));
      assert.equal(peer!.replies[500], `${first.pid} 1 flood:500`);
      assert.equal(peer!.replies[501], `${successorPid} 2 after`);
      assert.deepEqual(peer!.closes, []);
      peer!.ws.terminate();
    } finally {
      kill(server.child.pid, successorPid);
    }
  });

  test(`handover (${transport}): the new process dies halfway; every connection it had not acknowledged stays with the old one, which listens again`, async () => {
    const server = startServer(transport, {}, { CRASH_AFTER: '20' });
    const first = await server.wait((l) => l.successor === false, 'listening');
    try {
      const peers = await connect(first.port!, 50);
      server.send('handover');
      const result = await server.wait((l) => l.moved !== undefined || l.error !== undefined, 'the handover result');
      assert.match(String(result.error), /exited|closed the channel/);
      assert.equal(result.moved! + result.kept!, 50);
      assert.ok(result.kept! >= 30, `kept ${result.kept}`);
      // Those the dead process had taken are gone with it; the rest never noticed.
      await until(() => peers.filter((peer) => peer.closes.length > 0).length === result.moved, 5000, 'the lost ones');
      const kept = peers.filter((peer) => peer.closes.length === 0);
      assert.equal(kept.length, result.kept);
      for (const peer of kept) peer.ws.send('still');
      await until(() => kept.every((peer) => peer.replies.length === 1), 5000, 'replies');
      for (const peer of kept) assert.equal(peer.replies[0], `${first.pid} 1 still`);
      // Listening again on the same port.
      const [late] = await connect(first.port!, 1);
      late!.ws.send('late');
      await until(() => late!.replies.length === 1, 5000, 'the late reply');
      assert.equal(late!.replies[0], `${first.pid} 1 late`);
      for (const peer of [...peers, late!]) peer.ws.terminate();
    } finally {
      kill(server.child.pid);
    }
  });
}

for (const transport of TRANSPORTS) {
  test(`handover (${transport}): a connection still in its upgrade hook finishes it in the old process, then moves; idle timeouts go on in the new one`, async () => {
    const server = startServer(transport, { pingIntervalMs: 1000, idleTimeoutMs: 3000 });
    const first = await server.wait((l) => l.successor === false, 'listening');
    let successorPid: number | undefined;
    try {
      // A peer that never answers pings: the new process must drop it once idleTimeoutMs passes.
      const silent = await RawClient.open(first.port!);
      const ws = new WebSocket(`ws://127.0.0.1:${first.port}/slow`);
      const replies: string[] = [];
      const closes: number[] = [];
      ws.on('message', (data) => void replies.push(String(data)));
      ws.on('close', (code) => void closes.push(code));
      await new Promise((resolve) => setTimeout(resolve, 100)); // its upgrade is deciding now
      const { result, next } = await handOver(server);
      successorPid = next.pid;
      assert.equal(result.moved, 2);
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.send('after');
      await until(() => replies.length === 1, 5000, 'the reply');
      assert.equal(replies[0], `${successorPid} 1 after`);
      // Silent since it opened: pinged, then dropped by the new process (no Close: the peer is dead).
      await silent.endOfStream(8000);
      assert.ok(silent.frames.some((f) => f.opcode === Opcode.Ping));
      assert.deepEqual(closes, []);
      ws.terminate();
      silent.destroy();
    } finally {
      kill(server.child.pid, successorPid);
    }
  });
}
