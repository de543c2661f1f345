/**
 * Load processes of bench:redis, forked by bench/redis.ts (IPC):
 *
 *   node dist/bench/load/room-clients.js --role sub --kind lightws|socketio --port P --connections N
 *   node dist/bench/load/room-clients.js --role pub --kind lightws|socketio --ports P1,P2
 *
 * A `sub` process holds N subscribers of the topic on one server (lightws: lightws's client;
 * socket.io: socket.io-client, websocket transport) and reports `done` for each message once all
 * N have it, with the time the last one arrived. A `pub` process holds one publisher connection
 * per server and publishes at a fixed rate (`rate`) or flat out (`flat`: `window` messages in
 * flight per publisher, the next one sent when the orchestrator `ack`s one as delivered
 * everywhere). A message is text: `<publisher>:<seq>:` and padding to --size bytes, so that both
 * libraries carry one text frame per delivery. Times are lib/time.ts clock(), offsets measured
 * by the orchestrator (`ping`).
 */
import { parseArgs } from 'node:util';
import { createClient, type Connection } from '../../src/index.js';
import { exitWithParent, toParent } from '../lib/ipc.js';
import { clock } from '../lib/time.js';

export type RoomLoadCommand =
  | { type: 'connect' }
  | { type: 'ping' }
  | { type: 'mark' }
  | { type: 'report' }
  | { type: 'rate'; perSec: number; seconds: number }
  | { type: 'flat'; window: number; seconds: number }
  | { type: 'ack'; key: number }
  | { type: 'quit' };

export type RoomLoadReport =
  | { type: 'ready' }
  | { type: 'connected'; open: number; ms: number }
  | { type: 'pong'; at: number }
  | { type: 'marked' }
  /** sub: one message reached every subscriber of this process. */
  | { type: 'done'; key: number; at: number }
  /** sub: deliveries since mark, and messages some subscribers have not got; pub: what was sent since mark. */
  | { type: 'report'; deliveries: number; incomplete: number; keys: number[]; sentAt: number[] }
  | { type: 'published' }
  | { type: 'quitted' };

/** `<publisher>:<seq>:...` → publisher × 1e9 + seq, read from a Buffer or a string without copying. */
export function keyOf(at: (i: number) => number): number {
  const publisher = at(0) - 48;
  let seq = 0;
  for (let i = 2, c = at(i); c !== 58; c = at(++i)) seq = seq * 10 + (c - 48);
  return publisher * 1e9 + seq;
}

interface Sender {
  send(text: string): void;
}

const send = (r: RoomLoadReport): Promise<void> => toParent(r);

async function connectAll(
  kind: string,
  urls: string[],
  onMessage: (key: number) => void,
): Promise<{ senders: Sender[]; close(): Promise<void> }> {
  if (kind === 'lightws') {
    const client = createClient({ logLevel: 'silent', message: (_c, data) => onMessage(keyOf((i) => data[i]!)) });
    const conns: Connection[] = [];
    for (let i = 0; i < urls.length; i += 200)
      conns.push(...(await Promise.all(urls.slice(i, i + 200).map((url) => client.connect(url)))));
    return { senders: conns.map((c) => ({ send: (text) => void c.send(text) })), close: () => client.close() };
  }
  const { io } = await import('socket.io-client');
  const sockets: ReturnType<typeof io>[] = [];
  for (let i = 0; i < urls.length; i += 200) {
    sockets.push(
      ...(await Promise.all(
        urls.slice(i, i + 200).map(
          (url) =>
            new Promise<ReturnType<typeof io>>((resolve, reject) => {
              const u = new URL(url);
              const socket = io(`${u.protocol}//${u.host}`, {
                transports: ['websocket'],
                query: Object.fromEntries(u.searchParams),
                reconnection: false,
                forceNew: true,
              });
              socket.on('m', (text: string) => onMessage(keyOf((j) => text.charCodeAt(j))));
              socket.once('connect', () => resolve(socket));
              socket.once('connect_error', reject);
            }),
        ),
      )),
    );
  }
  return {
    senders: sockets.map((s) => ({ send: (text) => void s.emit('p', text) })),
    close: async () => void sockets.forEach((s) => s.close()),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      kind: { type: 'string' },
      port: { type: 'string' },
      ports: { type: 'string' },
      connections: { type: 'string', default: '1' },
      size: { type: 'string', default: '64' },
    },
  });
  const kind = values.kind!;
  const isSub = values.role === 'sub';
  const size = Number(values.size);
  const path = (port: string): string =>
    kind === 'lightws'
      ? `ws://127.0.0.1:${port}/${isSub ? 'sub' : 'pub'}`
      : `ws://127.0.0.1:${port}/?role=${isSub ? 'sub' : 'pub'}`;
  const urls = isSub
    ? Array.from({ length: Number(values.connections) }, () => path(values.port!))
    : values.ports!.split(',').map(path);

  // sub: deliveries, and per message how many of our subscribers have it and when the last did.
  let deliveries = 0;
  const pending = new Map<number, { n: number; last: number }>();
  const expected = urls.length;
  const onMessage = (key: number): void => {
    deliveries++;
    let entry = pending.get(key);
    if (entry === undefined) pending.set(key, (entry = { n: 0, last: 0 }));
    entry.n++;
    entry.last = clock();
    if (entry.n === expected) {
      pending.delete(key);
      void send({ type: 'done', key, at: entry.last });
    }
  };
  // pub: what was sent, and the flat-out loop's state.
  let keys: number[] = [];
  let sentAt: number[] = [];
  const seq = [0, 0];
  let connection: Awaited<ReturnType<typeof connectAll>> | undefined;
  let flatUntil = 0;
  const publish = (p: number): void => {
    const text = `${p}:${seq[p]!++}:`;
    const key = keyOf((i) => text.charCodeAt(i));
    keys.push(key);
    sentAt.push(clock());
    connection!.senders[p]!.send(text.padEnd(size, 'x'));
  };

  process.on('message', (cmd: RoomLoadCommand) => {
    switch (cmd.type) {
      case 'connect': {
        const t0 = performance.now();
        void connectAll(kind, urls, onMessage).then((c) => {
          connection = c;
          return send({ type: 'connected', open: c.senders.length, ms: performance.now() - t0 });
        });
        return;
      }
      case 'ping':
        void send({ type: 'pong', at: clock() });
        return;
      case 'mark':
        deliveries = 0;
        pending.clear();
        keys = [];
        sentAt = [];
        void send({ type: 'marked' });
        return;
      case 'report':
        void send({ type: 'report', deliveries, incomplete: pending.size, keys, sentAt });
        return;
      case 'rate': {
        // Open loop: message k of each publisher is due at t0 + k / perSec, whatever happened before.
        const t0 = performance.now();
        const total = Math.round(cmd.perSec * cmd.seconds);
        let k = 0;
        const tick = (): void => {
          const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * cmd.perSec) + 1);
          for (; k < due; k++) for (let p = 0; p < connection!.senders.length; p++) publish(p);
          if (k < total) setTimeout(tick, Math.max(0, (k / cmd.perSec) * 1000 - (performance.now() - t0)));
          else void send({ type: 'published' });
        };
        tick();
        return;
      }
      case 'flat':
        flatUntil = performance.now() + cmd.seconds * 1000;
        for (let p = 0; p < connection!.senders.length; p++) for (let w = 0; w < cmd.window; w++) publish(p);
        setTimeout(() => void send({ type: 'published' }), cmd.seconds * 1000);
        return;
      case 'ack':
        if (performance.now() < flatUntil) publish(Math.floor(cmd.key / 1e9));
        return;
      case 'quit':
        void (connection?.close() ?? Promise.resolve())
          .then(() => send({ type: 'quitted' }))
          .then(() => process.exit(0));
        return;
    }
  });
  exitWithParent();
  await send({ type: 'ready' });
}

void main();
