import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { TesseraError } from '../errors/index.js';
import { parseGoDuration } from './go-duration.js';
import { InMemoryCache } from './in-memory-cache.js';
import { RedisCache } from './redis-cache.js';
import type { CacheErrorHandler, ResultsCache } from './results-cache.js';

const inMemoryKeys = new Set(['max_size', 'max_size_items', 'validity']);
const redisKeys = new Set([
  'addr', 'username', 'password', 'db', 'dial_timeout', 'read_timeout', 'write_timeout', 'pool_size', 'min_idle_conns',
  'idle_timeout', 'max_conn_age', 'max_get_multi_concurrency', 'get_multi_batch_size', 'max_set_multi_concurrency',
  'set_multi_batch_size', 'tls_enabled', 'tls_config', 'cache_size', 'master_name', 'max_async_buffer_size',
  'max_async_concurrency', 'expiration',
]);

const byteUnits: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3, tb: 1024 ** 4, tib: 1024 ** 4 };

/** parseBytes reads Thanos's byte sizes (`100MB`, `1GiB`, `512`; base 2 units). */
export function parseBytes(v: unknown, field: string): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(v));
  const unit = byteUnits[(m?.[2] ?? 'x').toLowerCase()];
  if (m === null || unit === undefined) throw configError(`${field}: "${String(v)}" is not a byte size`);
  return Math.floor(Number(m[1]) * unit);
}

function configError(msg: string, cause?: unknown): TesseraError {
  return new TesseraError('TESSERA_CACHE_CONFIG', `parse response cache config: ${msg}`, cause === undefined ? undefined : { cause });
}

function duration(v: unknown, field: string, def: number): number {
  if (v === undefined || v === null || v === '') return def;
  try {
    return parseGoDuration(String(v));
  } catch (err) {
    throw configError(`${field}: ${(err as Error).message}`, err);
  }
}

function checkKeys(cfg: Record<string, unknown>, known: Set<string>, type: string): void {
  for (const k of Object.keys(cfg)) if (!known.has(k)) throw configError(`field ${k} not found in type ${type} config`);
}

/**
 * cacheFromConfig builds a results cache from Thanos's response cache YAML (`type: IN-MEMORY` or
 * `REDIS`, with `config:`). '' (no config) and an IN-MEMORY config without any limit mean no
 * cache, as in Thanos. Throws TesseraError `TESSERA_CACHE_CONFIG` for a bad config.
 */
export function cacheFromConfig(yamlText: string, onError: CacheErrorHandler): ResultsCache | undefined {
  if (yamlText.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (err) {
    throw configError((err as Error).message, err);
  }
  if (typeof doc !== 'object' || doc === null) throw configError('expected a mapping with type and config');
  const { type, config, ...rest } = doc as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw configError(`unknown fields ${Object.keys(rest).join(', ')}`);
  const cfg = (config ?? {}) as Record<string, unknown>;
  if (typeof cfg !== 'object') throw configError('config must be a mapping');
  switch (String(type ?? '').toUpperCase()) {
    case 'IN-MEMORY': {
      checkKeys(cfg, inMemoryKeys, 'IN-MEMORY');
      const maxSizeBytes = parseBytes(cfg['max_size'], 'max_size');
      const maxItems = Number(cfg['max_size_items'] ?? 0);
      if (!Number.isInteger(maxItems) || maxItems < 0) throw configError(`max_size_items: "${String(cfg['max_size_items'])}" is not a count`);
      if (maxSizeBytes === 0 && maxItems === 0) return undefined;
      return new InMemoryCache({ maxSizeBytes, maxItems, validityMs: duration(cfg['validity'], 'validity', 0) });
    }
    case 'REDIS': {
      checkKeys(cfg, redisKeys, 'REDIS');
      const addr = String(cfg['addr'] ?? '');
      if (addr === '') throw configError('REDIS: addr is required');
      const tls = (cfg['tls_config'] ?? {}) as Record<string, unknown>;
      const expiration = duration(cfg['expiration'], 'expiration', 0);
      return new RedisCache(
        {
          addr,
          username: String(cfg['username'] ?? ''),
          password: String(cfg['password'] ?? ''),
          db: Number(cfg['db'] ?? 0),
          dialTimeoutMs: duration(cfg['dial_timeout'], 'dial_timeout', 5000),
          readTimeoutMs: duration(cfg['read_timeout'], 'read_timeout', 3000),
          writeTimeoutMs: duration(cfg['write_timeout'], 'write_timeout', 3000),
          expirationMs: expiration > 0 ? expiration : 24 * 3_600_000,
          tlsEnabled: cfg['tls_enabled'] === true,
          tls: {
            caFile: String(tls['ca_file'] ?? ''),
            certFile: String(tls['cert_file'] ?? ''),
            keyFile: String(tls['key_file'] ?? ''),
            serverName: String(tls['server_name'] ?? ''),
            insecureSkipVerify: tls['insecure_skip_verify'] === true,
          },
        },
        onError,
      );
    }
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
