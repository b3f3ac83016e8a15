import { cacheConfigError } from './cache-config-error.js';
import { parseGoDuration } from './go-duration.js';
import type { RedisClientOptions } from './redis-client.js';

/** REDIS_CONFIG_KEYS are the fields of Thanos's REDIS cache config (cacheutil.RedisClientConfig). */
export const REDIS_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'addr', 'prefix', 'username', 'password', 'db', 'dial_timeout', 'read_timeout', 'write_timeout', 'pool_size', 'min_idle_conns',
  'idle_timeout', 'max_conn_age', 'max_get_multi_concurrency', 'get_multi_batch_size', 'max_set_multi_concurrency',
  'set_multi_batch_size', 'tls_enabled', 'tls_config', 'cache_size', 'master_name', 'max_async_buffer_size',
  'max_async_concurrency', 'expiration', 'set_async_circuit_breaker_config',
]);

/** configDuration reads a Go duration field of a cache config (def when absent). */
export function configDuration(v: unknown, field: string, def: number, what: string): number {
  if (v === undefined || v === null || v === '') return def;
  try {
    return parseGoDuration(String(v));
  } catch (err) {
    throw cacheConfigError(what, `${field}: ${(err as Error).message}`, err);
  }
}

/** checkConfigKeys rejects fields a config type does not have, as Thanos's strict YAML does. */
export function checkConfigKeys(cfg: Record<string, unknown>, known: ReadonlySet<string>, type: string, what: string): void {
  for (const k of Object.keys(cfg)) if (!known.has(k)) throw cacheConfigError(what, `field ${k} not found in type ${type} config`);
}

/**
 * parseRedisConfig reads the `config:` mapping of a `type: REDIS` cache config (Thanos's field
 * names and defaults). `expiration` is used when set; else `defaultTtlMs`. Throws TesseraError
 * TESSERA_CACHE_CONFIG naming `what`.
 */
export function parseRedisConfig(cfg: Record<string, unknown>, what: string, defaultTtlMs = 24 * 3_600_000): RedisClientOptions {
  checkConfigKeys(cfg, REDIS_CONFIG_KEYS, 'REDIS', what);
  const addr = String(cfg['addr'] ?? '');
  if (addr === '') throw cacheConfigError(what, 'REDIS: addr is required');
  const db = Number(cfg['db'] ?? 0);
  if (!Number.isInteger(db) || db < 0) throw cacheConfigError(what, `db: "${String(cfg['db'])}" is not a database number`);
  const batch = Number(cfg['get_multi_batch_size'] ?? 100);
  if (!Number.isInteger(batch) || batch < 0) throw cacheConfigError(what, `get_multi_batch_size: "${String(cfg['get_multi_batch_size'])}" is not a count`);
  const tls = (cfg['tls_config'] ?? {}) as Record<string, unknown>;
  const expiration = configDuration(cfg['expiration'], 'expiration', 0, what);
  return {
    addr,
    prefix: String(cfg['prefix'] ?? ''),
    username: String(cfg['username'] ?? ''),
    password: String(cfg['password'] ?? ''),
    db,
    dialTimeoutMs: configDuration(cfg['dial_timeout'], 'dial_timeout', 5000, what),
    readTimeoutMs: configDuration(cfg['read_timeout'], 'read_timeout', 3000, what),
    writeTimeoutMs: configDuration(cfg['write_timeout'], 'write_timeout', 3000, what),
    getMultiBatchSize: batch,
    expirationMs: expiration > 0 ? expiration : defaultTtlMs,
    tlsEnabled: cfg['tls_enabled'] === true,
    tls: {
      caFile: String(tls['ca_file'] ?? ''),
      certFile: String(tls['cert_file'] ?? ''),
      keyFile: String(tls['key_file'] ?? ''),
      serverName: String(tls['server_name'] ?? ''),
      insecureSkipVerify: tls['insecure_skip_verify'] === true,
    },
  };
}
