import { readFileSync } from 'node:fs';
import { cacheConfigError, checkConfigKeys, configDuration, parseBytes, parseCacheYaml, parseRedisConfig } from '../cache/index.js';
import { InMemoryCache } from './in-memory-cache.js';
import { RedisCache } from './redis-cache.js';
import type { CacheErrorHandler, ResultsCache } from './results-cache.js';

const WHAT = 'response cache config';
const inMemoryKeys = new Set(['max_size', 'max_size_items', 'validity']);

function configError(msg: string, cause?: unknown) {
  return cacheConfigError(WHAT, msg, cause);
}

/**
 * cacheFromConfig builds a results cache from Thanos's response cache YAML (`type: IN-MEMORY` or
 * `REDIS`, with `config:`). '' (no config) and an IN-MEMORY config without any limit mean no
 * cache, as in Thanos. Throws TesseraError `TESSERA_CACHE_CONFIG` for a bad config.
 */
export function cacheFromConfig(yamlText: string, onError: CacheErrorHandler): ResultsCache | undefined {
  const doc = parseCacheYaml(yamlText, WHAT);
  if (doc === undefined) return undefined;
  const { type, config, ...rest } = doc;
  if (Object.keys(rest).length > 0) throw configError(`unknown fields ${Object.keys(rest).join(', ')}`);
  const cfg = (config ?? {}) as Record<string, unknown>;
  if (typeof cfg !== 'object') throw configError('config must be a mapping');
  switch (String(type ?? '').toUpperCase()) {
    case 'IN-MEMORY': {
      checkConfigKeys(cfg, inMemoryKeys, 'IN-MEMORY', WHAT);
      const maxSizeBytes = parseBytes(cfg['max_size'], 'max_size', WHAT);
      const maxItems = Number(cfg['max_size_items'] ?? 0);
      if (!Number.isInteger(maxItems) || maxItems < 0) throw configError(`max_size_items: "${String(cfg['max_size_items'])}" is not a count`);
      if (maxSizeBytes === 0 && maxItems === 0) return undefined;
      return new InMemoryCache({ maxSizeBytes, maxItems, validityMs: configDuration(cfg['validity'], 'validity', 0, WHAT) });
    }
    case 'REDIS':
      return new RedisCache(parseRedisConfig(cfg, WHAT), onError);
    case 'MEMCACHED':
      throw configError('type MEMCACHED is not supported; use IN-MEMORY or REDIS');
    default:
      throw configError(`unknown cache type "${String(type ?? '')}"`);
  }
}

/** readCacheConfig returns the content of --X-config-file, else of --X-config ('' when neither). */
export function readCacheConfig(file: string, content: string): string {
  if (file !== '') {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw configError(`read ${file}: ${(err as Error).message}`, err);
    }
  }
  return content;
}
