/**
 * bench:redis's servers: one topic shared by every server through Redis, as lightws
 * (lightws/redis) and as socket.io with @socket.io/redis-adapter, both on ioredis clients.
 * Forked by bench/redis.ts (IPC):
 *
 *   node dist/bench/servers/redis-rooms.js --kind lightws|socketio --redis redis://127.0.0.1:P
 *
 * A connection to `/sub` (lightws) or with `?role=sub` (socket.io) joins the topic; what any
 * connection sends (lightws: a text message; socket.io: event 'p') is published to the topic, to
 * every subscriber on every server. Reports `{ type: 'ready', port }`; answers `stats` with the
 * bridge's counters (lightws) and `quit` by closing.
 */
import { createServer as createHttpServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createServer } from '../../src/index.js';
import { redisTopics } from '../../src/redis/index.js';
import { exitWithParent, toParent } from '../lib/ipc.js';

export const TOPIC = 'bench';
export type RoomsCommand = { type: 'stats' } | { type: 'quit' };
export type RoomsReport =
  { type: 'ready'; port: number } | { type: 'stats'; remote: Record<string, number> | null } | { type: 'quitted' };

interface Running {
  port: number;
  remote(): Record<string, number> | null;
  close(): Promise<void>;
}

async function lightws(url: string): Promise<Running> {
  const publisher = new Redis(url, { maxRetriesPerRequest: null });
  const server = createServer({
    logLevel: 'warn',
    open(conn, request) {
      if (request.url.startsWith('/sub')) conn.subscribe(TOPIC);
    },
    message(_conn, data, isBinary) {
      server.publish(TOPIC, data, isBinary);
    },
  });
  const topics = redisTopics(server, { publisher });
  await topics.ready();
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    port,
    remote: () => ({ ...server.stats().remote }),
    close: async () => {
      await server.close({ timeoutMs: 1000 });
      await topics.close();
      publisher.disconnect();
    },
  };
}

async function socketio(url: string): Promise<Running> {
  const { Server } = await import('socket.io');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const pub = new Redis(url, { maxRetriesPerRequest: null });
  const sub = pub.duplicate();
  const http = createHttpServer();
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  io.adapter(createAdapter(pub, sub));
  io.on('connection', (socket) => {
    if (socket.handshake.query['role'] === 'sub') void socket.join(TOPIC);
    socket.on('p', (data: unknown) => void io.to(TOPIC).emit('m', data));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    port: (http.address() as { port: number }).port,
    remote: () => null,
    close: async () => {
      await io.close();
      pub.disconnect();
      sub.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kind: { type: 'string' }, redis: { type: 'string' } } });
  const start = values.kind === 'lightws' ? lightws : values.kind === 'socketio' ? socketio : null;
  if (start === null) throw new RangeError(`--kind must be lightws or socketio, not ${String(values.kind)}`);
  const running = await start(values.redis!);
  process.on('message', (cmd: RoomsCommand) => {
    if (cmd.type === 'stats') void toParent({ type: 'stats', remote: running.remote() } satisfies RoomsReport);
    else if (cmd.type === 'quit')
      void running
        .close()
        .then(() => toParent({ type: 'quitted' } satisfies RoomsReport))
        .then(() => process.exit(0));
  });
  exitWithParent();
  await toParent({ type: 'ready', port: running.port } satisfies RoomsReport);
}

main().catch((error: unknown) => {
  process.stderr.write(`redis-rooms server: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
