import { cacheConfigError, checkConfigKeys, configDuration, parseBytes, parseCacheYaml, parseRedisConfig, type RedisClientOptions } from '../../cache/index.js';
import type { IndexCacheItem } from './index-cache.js';

/** StoreCacheConfig is a parsed --index-cache.config or --store.caching-bucket.config. */
export interface StoreCacheConfig {
  readonly type: 'IN-MEMORY' | 'REDIS';
  /**
   * inMemoryBytes is the in-memory LRU budget: IN-MEMORY's max_size, REDIS's cache_size (Thanos's
   * client-side cache; 0 = every lookup goes to Redis).
   */
  readonly inMemoryBytes: number;
  /** maxItemBytes: larger items are not kept in memory (max_item_size). */
  readonly maxItemBytes?: number;
  /** enabledItems of the index cache (enabled_items; undefined = all). */
  readonly enabledItems?: IndexCacheItem[];
  /** redis is the Redis connection of type REDIS. */
  readonly redis?: RedisClientOptions;
  /** ttlMs of items written to Redis: the index cache's ttl, the caching bucket's chunk_subrange_ttl (default 24h). */
  readonly ttlMs: number;
}

const DAY = 24 * 3_600_000;
const MiB = 1024 * 1024;
const IN_MEMORY_KEYS = new Set(['max_size', 'max_item_size']);
const ITEMS: readonly string[] = ['Postings', 'Series', 'ExpandedPostings'];
const CACHING_BUCKET_KEYS = new Set([
  'chunk_subrange_size', 'max_chunks_get_range_requests', 'chunk_object_attrs_ttl', 'chunk_subrange_ttl', 'blocks_iter_ttl',
  'metafile_exists_ttl', 'metafile_doesnt_exist_ttl', 'metafile_content_ttl', 'metafile_max_size',
]);

function backend(doc: Record<string, unknown>, what: string, ttlMs: number, defaultBytes: number): StoreCacheConfig {
  const cfg = (doc['config'] ?? {}) as Record<string, unknown>;
  if (typeof cfg !== 'object' || Array.isArray(cfg)) throw cacheConfigError(what, 'config must be a mapping');
  const type = String(doc['type'] ?? '').toUpperCase();
  switch (type) {
    case 'IN-MEMORY': {
      checkConfigKeys(cfg, IN_MEMORY_KEYS, 'IN-MEMORY', what);
      const max = parseBytes(cfg['max_size'], 'max_size', what);
      const item = parseBytes(cfg['max_item_size'], 'max_item_size', what);
      const inMemoryBytes = max > 0 ? max : defaultBytes;
      return { type: 'IN-MEMORY', inMemoryBytes, ...(item > 0 ? { maxItemBytes: item } : {}), ttlMs };
    }
    case 'REDIS': {
      const { cache_size: cacheSize, ...rest } = cfg;
      const redis = parseRedisConfig(rest, what, ttlMs);
      return { type: 'REDIS', inMemoryBytes: parseBytes(cacheSize, 'cache_size', what), redis, ttlMs };
    }
    case 'MEMCACHED':
    case 'GROUPCACHE':
      throw cacheConfigError(what, `type ${type} is not supported; use IN-MEMORY or REDIS`);
    default:
      throw cacheConfigError(what, `unknown cache type "${String(doc['type'] ?? '')}"`);
  }
}

/**
 * parseIndexCacheConfig reads Thanos's --index-cache.config YAML: `type: IN-MEMORY` (config
 * max_size, max_item_size; max_size 0 = 250MB) or `type: REDIS` (Thanos's Redis client config;
 * cache_size = in-memory budget in front of Redis), with top-level enabled_items and ttl (Redis
 * item TTL; 0 = 24h). '' means no config (undefined). Throws TesseraError TESSERA_CACHE_CONFIG.
 */
export function parseIndexCacheConfig(yamlText: string): StoreCacheConfig | undefined {
  const what = 'index cache config';
  const doc = parseCacheYaml(yamlText, what);
  if (doc === undefined) return undefined;
  for (const k of Object.keys(doc)) if (!['type', 'config', 'enabled_items', 'ttl'].includes(k)) throw cacheConfigError(what, `unknown field ${k}`);
  const ttl = configDuration(doc['ttl'], 'ttl', 0, what);
  const c = backend(doc, what, ttl > 0 ? ttl : DAY, 250 * MiB);
  const items = doc['enabled_items'];
  if (items === undefined || items === null) return c;
  if (!Array.isArray(items)) throw cacheConfigError(what, 'enabled_items must be a list');
  for (const i of items) if (!ITEMS.includes(String(i))) throw cacheConfigError(what, `enabled_items: unsupported item type ${String(i)} (Postings, Series, ExpandedPostings)`);
  if (items.length === 0) return c;
  return { ...c, enabledItems: items.map(String).filter((i): i is IndexCacheItem => i === 'Postings' || i === 'Series') };
}

/**
 * parseCachingBucketConfig reads Thanos's --store.caching-bucket.config YAML for the chunk cache:
 * `type: IN-MEMORY` (max_size, 0 = 250MB) or `type: REDIS`, with chunk_subrange_ttl as the TTL
 * of cached chunks (24h). Chunks are cached per chunk record, not in chunk_subrange_size
 * pieces; that and the metafile and iteration fields are accepted and unused (the store keeps
 * meta.json files on disk). '' means no config (undefined).
 */
export function parseCachingBucketConfig(yamlText: string): StoreCacheConfig | undefined {
  const what = 'caching bucket config';
  const doc = parseCacheYaml(yamlText, what);
  if (doc === undefined) return undefined;
  for (const k of Object.keys(doc)) if (k !== 'type' && k !== 'config' && !CACHING_BUCKET_KEYS.has(k)) throw cacheConfigError(what, `unknown field ${k}`);
  const ttl = configDuration(doc['chunk_subrange_ttl'], 'chunk_subrange_ttl', DAY, what);
  for (const k of CACHING_BUCKET_KEYS) if (k.endsWith('_ttl')) configDuration(doc[k], k, 0, what);
  return backend(doc, what, ttl > 0 ? ttl : DAY, 250 * MiB);
}
