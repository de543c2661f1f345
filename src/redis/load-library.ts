/**
 * For the CLI: lightws has no runtime dependency, so `--redis` uses the Redis client library the
 * user installed, `redis` (node-redis) or else `ioredis`, found from the current directory first
 * (the user's project) and then from lightws's own installation.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RedisClient } from './clients.js';

export interface RedisLibrary {
  name: 'redis' | 'ioredis';
  /** A new client for `url` (connected by redisTopics). */
  connect(url: string): RedisClient;
}

export const REDIS_LIBRARY_MISSING =
  'the --redis option needs a Redis client library: install one of them next to your application, `npm install redis` (node-redis) or `npm install ioredis`';

function resolveFrom(name: string, bases: readonly string[]): string | null {
  for (const base of bases) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      // not installed there
    }
  }
  return null;
}

/** Loads `redis`, else `ioredis`; null when neither is installed. */
export async function loadRedisLibrary(cwd = process.cwd()): Promise<RedisLibrary | null> {
  const bases = [join(cwd, 'package.json'), import.meta.url];
  const nodeRedis = resolveFrom('redis', bases);
  if (nodeRedis !== null) {
    const ns = (await import(pathToFileURL(nodeRedis).href)) as {
      createClient?: CreateClient;
      default?: { createClient?: CreateClient };
    };
    const createClient = ns.createClient ?? ns.default?.createClient;
    if (createClient !== undefined) return { name: 'redis', connect: (url) => createClient({ url }) };
  }
  const ioredis = resolveFrom('ioredis', bases);
  if (ioredis !== null) {
    const ns = (await import(pathToFileURL(ioredis).href)) as {
      Redis?: IoRedisClass;
      default?: IoRedisClass & { Redis?: IoRedisClass };
    };
    const Redis = ns.Redis ?? ns.default?.Redis ?? ns.default;
    if (typeof Redis === 'function')
      return { name: 'ioredis', connect: (url) => new Redis(url, { maxRetriesPerRequest: null }) };
  }
  return null;
}

type CreateClient = (options: { url: string }) => RedisClient;
type IoRedisClass = new (url: string, options: { maxRetriesPerRequest: null }) => RedisClient;
