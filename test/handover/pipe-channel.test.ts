import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { HandoverMessage } from '../../src/handover/channel.js';
import { HANDOVER_FD, HANDOVER_FD_ENV, makePipePair, stdioOf } from '../../src/handover/pipe-pair.js';
import { until } from '../support/servers.js';

const peer = fileURLToPath(new URL('../support/pipe-peer.js', import.meta.url));

/** A handover pipe to a forked pipe-peer.ts. */
async function startPeer() {
  const pair = await makePipePair();
  assert.ok(pair !== null, 'a pipe pair can be made here');
  const given = stdioOf(pair.give);
  const child = fork(peer, [], {
    env: { ...process.env, [HANDOVER_FD_ENV]: String(HANDOVER_FD) },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc', given],
  });
  given.destroy();
  const acks: number[] = [];
  const read = new Map<number, string>();
  pair.channel.on('message', (message: HandoverMessage) => {
    if (message.lightws === 'handover-ack') acks.push(...message.ids);
    if (message.lightws === 'handover-publish') read.set(Number(message.topic), message.text ?? '');
  });
  return { channel: pair.channel, child, acks, read };
}

/** `count` TCP connections: each one's server side (not read: what its peer wrote waits in the kernel) and its peer. */
async function connections(count: number) {
  const server = createServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted: Socket[] = [];
  server.on('connection', (socket: Socket) => void accepted.push(socket));
  const peers = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`bytes of ${i}`);
      return socket;
    }),
  );
  await until(() => accepted.length === count, 10_000, 'every connection accepted');
  return { server, accepted, peers };
}

test('a handover pipe carries many descriptors at once, each with its own message, in order, with the bytes unread in the kernel', async () => {
  const { channel, child, acks, read } = await startPeer();
  const { server, accepted, peers } = await connections(200);
  // Which connection is which: its server side's remote port, the peer's local port.
  const byPort = new Map(peers.map((p, i) => [p.localPort!, i]));
  let written = 0;
  let writtenAtFirstAck = -1;
  channel.on('message', (message: HandoverMessage) => {
    if (message.lightws === 'handover-ack' && writtenAtFirstAck < 0) writtenAtFirstAck = written;
  });
  for (const socket of accepted) {
    const id = byPort.get(socket.remotePort!)!;
    // The descriptor goes as Node's own handover would take it: the handle, not reading.
    const handle = (socket as unknown as { _handle: { readStop(): void } })._handle;
    handle.readStop();
    channel.send({ lightws: 'handover-conn', id, wire: `wire ${id}` }, handle, (error) => {
      assert.equal(error, null);
      written++;
    });
  }
  await until(() => read.size === 200, 20_000, 'every connection read in the other process');
  // Node's channel writes the next handle only once the receiver acknowledged the last: here, none waited.
  assert.equal(writtenAtFirstAck, 200);
  assert.deepEqual(
    [...acks].sort((a, b) => a - b),
    Array.from({ length: 200 }, (_, i) => i),
  );
  for (let i = 0; i < 200; i++) assert.equal(read.get(i), `wire ${i}:bytes of ${i}`);
  for (const socket of [...accepted, ...peers]) socket.destroy();
  server.close();
  const exited = once(child, 'exit');
  channel.send({ lightws: 'handover-done' });
  await exited;
  await until(() => !channel.connected, 5000, 'the pipe closed when the other process exited');
});

test('a handover pipe whose other process dies: the channel says so, and the connections it had not read stay ours', async () => {
  const { channel, child } = await startPeer();
  const { server, accepted, peers } = await connections(2);
  let gone = 0;
  channel.on('disconnect', () => void gone++);
  child.kill('SIGKILL');
  await once(child, 'exit');
  await until(() => gone === 1, 5000, 'disconnect on the pipe');
  assert.equal(channel.connected, false);
  let failed: Error | null = null;
  channel.send(
    { lightws: 'handover-conn', id: 0, wire: '' },
    (accepted[0] as unknown as { _handle: unknown })._handle,
    (e) => (failed = e),
  );
  await until(() => failed !== null, 5000, 'a send on a closed pipe fails');
  // Ours still: it reads what its peer sent.
  accepted[0]!.resume();
  const [data] = (await once(accepted[0]!, 'data')) as [Buffer];
  assert.match(data.toString(), /^bytes of/);
  for (const socket of [...accepted, ...peers]) socket.destroy();
  server.close();
});
