/**
 * RemoteCache is a shared byte cache beside the in-memory LRUs (Redis: pkg/cache's RedisClient),
 * so several store gateways share index and chunk data. It never throws: an unreachable or slow
 * backend answers misses and drops writes.
 */
export interface RemoteCache {
  /** getMulti returns the values of keys, undefined where absent (or the backend failed). */
  getMulti(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /** setMulti writes items in the background with a TTL (ms). */
  setMulti(items: readonly (readonly [string, Uint8Array])[], ttlMs: number): void;
}
