import { createChatServer } from '../chat/chat-server.js';
import { createServer, type Server, type ServerSettings } from '../index.js';
import { linkOf } from '../redis/clients.js';
import { redisTopics } from '../redis/index.js';
import type { RedisLibrary } from '../redis/load-library.js';
import { reachable, type Served } from './serve.js';

/** The settings the command line gives every server it makes. */
export type CliSettings = Pick<
  ServerSettings,
  'transport' | 'maxMessageSize' | 'deflate' | 'tls' | 'logLevel' | 'checkOrigin' | 'allowedHosts'
>;

/** Where topics go beyond this process: a Redis (its URL and client library), or nowhere. */
export interface RedisChoice {
  readonly url: string;
  readonly library: RedisLibrary;
}

/** Plugs a Redis bridge into `server`; returns how to close what it opened. */
function withRedis(server: Server, redis: RedisChoice): () => Promise<void> {
  const publisher = redis.library.connect(redis.url);
  const topics = redisTopics(server, { publisher });
  // Both at once, each bounded (QUIT_TIMEOUT_MS): a Redis that does not answer must not hold the exit.
  return async () => {
    await Promise.all([topics.close(), linkOf(publisher, 'publisher').quit()]);
  };
}

/**
 * `lightws echo`: every message back to its sender. With `--redis`, rooms
 * instead: each connection joins the topic named by its request path (without
 * the query), and what it sends is published there with conn.publish, to
 * everyone else in the room on every server on that Redis.
 */
export function echoCommand(settings: CliSettings, redis: RedisChoice | undefined): Served {
  let closeRedis: (() => Promise<void>) | undefined;
  return {
    make() {
      if (redis === undefined)
        return createServer({ ...settings, message: (conn, data, isBinary) => void conn.send(data, isBinary) });
      const server = createServer({
        ...settings,
        upgrade(request) {
          const query = request.url.indexOf('?');
          return { data: query < 0 ? request.url : request.url.slice(0, query) };
        },
        open(conn) {
          conn.subscribe(conn.data);
        },
        message(conn, data, isBinary) {
          conn.publish(conn.data, data, isBinary);
        },
      }) as Server;
      closeRedis = withRedis(server, redis);
      return server;
    },
    startup(address, detail) {
      const { url, everywhere } = reachable(settings.tls ? 'wss' : 'ws', address);
      const mode = redis === undefined ? '' : `, rooms through Redis at ${redis.url} (${redis.library.name})`;
      return `lightws echo listening on ${url}${everywhere ? ' on all interfaces' : ''} (${detail}${mode})`;
    },
    close: () => closeRedis?.() ?? Promise.resolve(),
  };
}

/** `lightws chat`: the browser chat (src/chat), its rooms through Redis with `--redis`. */
export function chatCommand(settings: CliSettings, redis: RedisChoice | undefined): Served {
  let closeRedis: (() => Promise<void>) | undefined;
  return {
    make() {
      const server = createChatServer(settings);
      if (redis !== undefined) closeRedis = withRedis(server, redis);
      return server;
    },
    startup(address, detail) {
      const { url, everywhere } = reachable(settings.tls ? 'https' : 'http', address);
      const rooms = redis === undefined ? '' : `, rooms through Redis at ${redis.url} (${redis.library.name})`;
      return (
        `lightws chat: open ${url}/ in a browser${everywhere ? ' (listening on all interfaces)' : ''}; ` +
        `WebSocket at ${url.replace(/^http/, 'ws')}/ws (${detail}${rooms}). Ctrl+C stops it.`
      );
    },
    close: () => closeRedis?.() ?? Promise.resolve(),
  };
}
