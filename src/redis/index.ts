/**
 * lightws/redis: topics across servers through Redis (or Valkey) pub/sub,
 * with the user's own clients, so that lightws depends on nothing.
 *
 *   import { createClient } from 'redis';            // or: import Redis from 'ioredis';
 *   import { redisTopics } from 'lightws/redis';
 *   const topics = redisTopics(server, { publisher: createClient({ url }) });
 */
import { randomBytes } from 'node:crypto';
import type { RemoteStats } from '../api/topic-bridge.js';
import type { Server } from '../server.js';
import { linkOf, type RedisClient, type RedisLink } from './clients.js';
import { OriginId } from './envelope.js';
import { RedisBridge } from './redis-bridge.js';

export type { RedisClient, NodeRedisClient, IoRedisClient } from './clients.js';

export interface RedisTopicsOptions {
  /** A node-redis (`createClient()`) or ioredis (`new Redis()`) client: publishes go through it. Connected for you if it is not yet. */
  publisher: RedisClient;
  /**
   * A second client of the same library, for the subscriptions (a Redis
   * connection that subscribes can do nothing else). Default: a duplicate of
   * the publisher, made, connected and closed by lightws.
   */
  subscriber?: RedisClient;
  /** Start of every channel name, so that several applications can share one Redis. Default 'lightws:'. */
  prefix?: string;
  /**
   * Bytes of publishes kept while Redis has not acknowledged them (in flight,
   * or waiting for a reconnect); beyond it the oldest kept ones are dropped
   * and counted. Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * When Redis is back after an outage, the publishes kept meanwhile wait
   * until the other servers have subscribed again (PUBSUB NUMSUB back to the
   * count their channel's last publish reached), at most this long; then
   * they go out anyway. Default 5000 ms.
   */
  resubscribeWaitMs?: number;
}

export const REDIS_DEFAULTS = {
  prefix: 'lightws:',
  maxBufferedBytes: 8 * 1024 * 1024,
  resubscribeWaitMs: 5000,
} as const;

/** The bridge between one server and Redis. */
export interface RedisTopics {
  /** This server's id in the envelopes (16 hex digits). */
  readonly id: string;
  /** Resolves once both connections are ready and every subscription so far is acknowledged by Redis. */
  ready(): Promise<void>;
  /** The counters also in `server.stats().remote`. */
  stats(): RemoteStats;
  /**
   * Detaches from the server (publishes stay local), leaves every channel, closes the subscriber
   * if lightws made it. Your clients stay open, and their 'error' events are yours again.
   */
  close(): Promise<void>;
}

/**
 * Attaches `server` to Redis: every `server.publish` and `conn.publish` also
 * reaches the subscribers of the other servers attached to the same Redis
 * with the same prefix, and theirs reach this server's subscribers.
 */
export function redisTopics(
  server: Pick<Server, 'attachBridge' | 'detachBridge'>,
  options: RedisTopicsOptions,
): RedisTopics {
  if (server === null || typeof server !== 'object' || typeof server.attachBridge !== 'function')
    throw new TypeError('redisTopics needs a lightws server (createServer())');
  if (options === null || typeof options !== 'object')
    throw new TypeError(
      'redisTopics needs options: { publisher, subscriber?, prefix?, maxBufferedBytes?, resubscribeWaitMs? }',
    );
  const prefix = options.prefix ?? REDIS_DEFAULTS.prefix;
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  const maxBufferedBytes = options.maxBufferedBytes ?? REDIS_DEFAULTS.maxBufferedBytes;
  if (!Number.isSafeInteger(maxBufferedBytes) || maxBufferedBytes < 1)
    throw new RangeError(`maxBufferedBytes must be a positive integer (bytes), not ${String(maxBufferedBytes)}`);
  const resubscribeWaitMs = options.resubscribeWaitMs ?? REDIS_DEFAULTS.resubscribeWaitMs;
  if (!Number.isSafeInteger(resubscribeWaitMs) || resubscribeWaitMs < 0)
    throw new RangeError(`resubscribeWaitMs must be an integer ≥ 0 (ms), not ${String(resubscribeWaitMs)}`);
  if (options.subscriber !== undefined && options.subscriber === options.publisher) {
    throw new TypeError(
      'publisher and subscriber must be two connections (a subscribed connection can only subscribe): pass publisher.duplicate(), or no subscriber',
    );
  }
  const publisher = linkOf(options.publisher, 'publisher');
  const owned = options.subscriber === undefined;
  const subscriber: RedisLink = owned ? publisher.duplicate() : linkOf(options.subscriber, 'subscriber');
  if (subscriber.library !== publisher.library)
    throw new TypeError(
      `publisher is a ${publisher.library} client and subscriber a ${subscriber.library} one: use one library for both`,
    );
  const origin = new OriginId(randomBytes(8));
  const bridge = new RedisBridge(publisher, subscriber, { prefix, maxBufferedBytes, resubscribeWaitMs, origin });
  try {
    server.attachBridge(bridge);
  } catch (error) {
    if (owned) void subscriber.quit().catch(() => {});
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    id: origin.toString(),
    ready: () => bridge.ready(),
    stats: () => bridge.stats(),
    close: () =>
      (closed ??= (async () => {
        server.detachBridge(bridge);
        if (owned) await subscriber.quit().catch(() => {});
      })()),
  };
}
