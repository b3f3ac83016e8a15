import { LRUCache } from 'lru-cache';
import type { ResultsCache } from './results-cache.js';

/** InMemoryCacheOptions are the `IN-MEMORY` config: 0 means "no limit" for each bound. */
export interface InMemoryCacheOptions {
  readonly maxSizeBytes: number;
  readonly maxItems: number;
  /** validityMs is how long an entry lives; 0 keeps it until evicted. */
  readonly validityMs: number;
}

/** InMemoryCache is an LRU of cached extents bounded by total bytes and/or item count. */
export class InMemoryCache implements ResultsCache {
  readonly name = 'IN-MEMORY';
  readonly #lru: LRUCache<string, string>;

  constructor(opts: InMemoryCacheOptions) {
    // cacheFromConfig builds one only with at least one bound; the other is then unlimited.
    // (lru-cache preallocates `max` slots, so an unlimited item count is no `max` at all.)
    const o = {
      ...(opts.maxItems > 0 ? { max: opts.maxItems } : {}),
      ...(opts.maxSizeBytes > 0 ? { maxSize: opts.maxSizeBytes, sizeCalculation: (v: string, k: string) => Math.max(1, 2 * (v.length + k.length)) } : {}),
      ...(opts.validityMs > 0 ? { ttl: opts.validityMs } : {}),
    };
    this.#lru = new LRUCache<string, string>(o as LRUCache.Options<string, string, unknown>);
  }

  get size(): number {
    return this.#lru.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#lru.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    this.#lru.set(key, value);
  }

  async close(): Promise<void> {
    this.#lru.clear();
  }
}
