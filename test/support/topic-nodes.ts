/**
 * Servers joined through a real Redis, and WebSocket peers that keep what they receive: what the
 * lightws/redis tests are made of. A "node" is one lightws server with its own bridge and Redis
 * clients, as one machine of a deployment would be.
 */
import { createClient, type Connection, type ServerOptions } from '../../src/index.js';
import { redisTopics, type RedisTopics, type RedisTopicsOptions } from '../../src/redis/index.js';
import { redisClient, type Library, type TestClient } from './redis-clients.js';
import { start, until, type Started, type Transport } from './servers.js';

export interface TopicNode extends Started {
  topics: RedisTopics;
  publisher: TestClient;
  subscriber: TestClient | undefined;
  close(): Promise<void>;
}

export interface NodeOptions {
  /** The server's transport; default 'handle'. */
  transport?: Transport;
  server?: ServerOptions;
  bridge?: Partial<Omit<RedisTopicsOptions, 'publisher' | 'subscriber'>>;
  /** Let the bridge make its own subscriber (publisher.duplicate()). */
  ownSubscriber?: boolean;
  publisherRetryMs?: number;
  /** Where the publisher connects, if not to `url` (e.g. through a test/support/tcp-gate.ts). */
  publisherUrl?: string;
  subscriberRetryMs?: number;
  autoResubscribe?: boolean;
}

/** A server on a free port, bridged to Redis at `url` with `library`'s clients; ready when it resolves. */
export async function topicNode(library: Library, url: string, options: NodeOptions = {}): Promise<TopicNode> {
  const started = await start(options.transport ?? 'handle', options.server ?? {});
  const publisher = redisClient(library, options.publisherUrl ?? url, { retryMs: options.publisherRetryMs });
  const subscriber =
    options.ownSubscriber === true
      ? undefined
      : redisClient(library, url, { retryMs: options.subscriberRetryMs, autoResubscribe: options.autoResubscribe });
  const topics = redisTopics(started.server, {
    ...options.bridge,
    publisher: publisher.client,
    ...(subscriber ? { subscriber: subscriber.client } : {}),
  });
  await topics.ready();
  return {
    ...started,
    topics,
    publisher,
    subscriber,
    close: async () => {
      await started.server.close({ timeoutMs: 2000 });
      await topics.close();
      await publisher.quit();
      await subscriber?.quit();
    },
  };
}

export interface Received {
  text: string;
  bytes: Buffer;
  isBinary: boolean;
}

/** A WebSocket peer that keeps a copy of every message. */
export interface Peer {
  conn: Connection;
  inbox: Received[];
  texts(): string[];
  /** Waits until `n` messages have arrived. */
  waitFor(n: number, what?: string): Promise<void>;
}

/** Peers on one client (one reactor); close them all with `close`. */
export function peers(): { connect(url: string): Promise<Peer>; close(): Promise<void> } {
  const byConn = new Map<Connection, Received[]>();
  const client = createClient({
    logLevel: 'silent',
    message: (conn, data, isBinary) =>
      void byConn.get(conn)?.push({ text: data.toString(), bytes: Buffer.from(data), isBinary }),
  });
  return {
    async connect(url) {
      const conn = await client.connect(url);
      const inbox: Received[] = [];
      byConn.set(conn, inbox);
      return {
        conn,
        inbox,
        texts: () => inbox.map((m) => m.text),
        waitFor: (n, what = `${n} messages`) => until(() => inbox.length >= n, 10_000, what),
      };
    },
    close: () => client.close(),
  };
}

/** Waits until the server counts `n` subscribers of `topic` (a subscribe message travels first). */
export function subscribed(node: Started, topic: string, n: number): Promise<void> {
  return until(() => node.server.subscribers(topic) === n, 5000, `${n} subscribers of ${topic}`);
}

/**
 * The handlers the bridge tests run: each connection subscribes to the topic named by its path
 * ('/' subscribes to nothing), and what it sends it publishes there with conn.publish, passing
 * the borrowed `data` straight on (the bridge must copy it).
 */
export const rooms: ServerOptions = {
  open(conn, request) {
    const topic = request.url.slice(1);
    conn.data = topic;
    if (topic !== '') conn.subscribe(topic);
  },
  message(conn, data, isBinary) {
    conn.publish(conn.data as string, data, isBinary);
  },
};
