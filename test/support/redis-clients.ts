/**
 * The two Redis client libraries the bridge supports, made the same way for the tests, so that
 * every behavioural test runs once per library. Reconnects are quick (`retryMs`) so that the
 * outage tests do not wait on the libraries' default back-off.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { RedisClient } from '../../src/redis/index.js';

export const LIBRARIES = ['node-redis', 'ioredis'] as const;
export type Library = (typeof LIBRARIES)[number];

export interface TestClient {
  client: RedisClient;
  /** Errors the client emitted (the bridge listens too; this keeps a client we own from ever throwing). */
  errors: Error[];
  quit(): Promise<void>;
}

export function redisClient(
  library: Library,
  url: string,
  options: { retryMs?: number; autoResubscribe?: boolean } = {},
): TestClient {
  const retryMs = options.retryMs ?? 50;
  const errors: Error[] = [];
  if (library === 'ioredis') {
    const client = new Redis(url, {
      retryStrategy: () => retryMs,
      maxRetriesPerRequest: null,
      autoResubscribe: options.autoResubscribe ?? true,
    });
    client.on('error', (error: Error) => void errors.push(error));
    return {
      client,
      errors,
      quit: async () => {
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      },
    };
  }
  const client = createClient({ url, socket: { reconnectStrategy: () => retryMs } });
  client.on('error', (error: Error) => void errors.push(error));
  return {
    client,
    errors,
    quit: async () => {
      if (!client.isOpen) return;
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}

/** A plain ioredis connection to look at Redis from outside (PUBSUB, a stranger's PUBLISH). */
export function inspector(url: string): {
  redis: Redis;
  channels(pattern?: string): Promise<string[]>;
  numsub(channel: string): Promise<number>;
  close(): Promise<void>;
} {
  const redis = new Redis(url, { retryStrategy: () => 50, maxRetriesPerRequest: null });
  redis.on('error', () => {});
  return {
    redis,
    channels: async (pattern = '*') => ((await redis.pubsub('CHANNELS', pattern)) as string[]).sort(),
    numsub: async (channel) => Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]),
    close: async () => {
      redis.disconnect();
    },
  };
}
