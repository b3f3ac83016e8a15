import { RedisClient, type RedisClientOptions } from '../cache/index.js';
import type { CacheErrorHandler, ResultsCache } from './results-cache.js';

/** RedisCacheOptions are the `REDIS` config of Thanos's cache YAML (durations in ms). */
export type RedisCacheOptions = RedisClientOptions;

/**
 * RedisCache keeps cached extents in Redis through the shared RedisClient (pkg/cache): a down or
 * slow Redis costs each query at most the read/write timeout, never an error.
 */
export class RedisCache implements ResultsCache {
  readonly name = 'REDIS';
  readonly #client: RedisClient;

  constructor(opts: RedisCacheOptions, onError: CacheErrorHandler) {
    this.#client = new RedisClient(opts, onError);
  }

  get(key: string): Promise<string | undefined> {
    return this.#client.get(key);
  }

  set(key: string, value: string): Promise<void> {
    return this.#client.set(key, value);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
