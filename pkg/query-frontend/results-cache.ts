/**
 * ResultsCache stores cached range-query extents by key. Implementations never throw: a backend
 * that fails or is slow answers "miss" (get) or drops the write (set), and counts it through
 * onError, so queries go on uncached.
 */
export interface ResultsCache {
  /** name labels the cache in metrics (`IN-MEMORY`, `REDIS`). */
  readonly name: string;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

/** CacheErrorHandler is told about each failed cache operation. */
export type CacheErrorHandler = (op: 'get' | 'set', err: unknown) => void;
