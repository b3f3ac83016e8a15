import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { CacheErrorHandler, ResultsCache } from './results-cache.js';

/** RedisCacheOptions are the `REDIS` config of Thanos's cache YAML (durations in ms). */
export interface RedisCacheOptions {
  readonly addr: string;
  readonly username: string;
  readonly password: string;
  readonly db: number;
  readonly dialTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly expirationMs: number;
  readonly tlsEnabled: boolean;
  readonly tls: {
    readonly caFile: string;
    readonly certFile: string;
    readonly keyFile: string;
    readonly serverName: string;
    readonly insecureSkipVerify: boolean;
  };
}

/**
 * RedisCache keeps cached extents in Redis with ioredis. Commands fail fast instead of queueing
 * while Redis is unreachable (no offline queue) and time out after the read/write timeout, so a
 * down or slow Redis costs each query at most that timeout, never an error.
 */
export class RedisCache implements ResultsCache {
  readonly name = 'REDIS';
  readonly #client: Redis;
  readonly #opts: RedisCacheOptions;
  readonly #onError: CacheErrorHandler;

  constructor(opts: RedisCacheOptions, onError: CacheErrorHandler) {
    this.#opts = opts;
    this.#onError = onError;
    const i = opts.addr.lastIndexOf(':');
    const host = i < 0 ? opts.addr : opts.addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    const port = i < 0 ? 6379 : Number(opts.addr.slice(i + 1));
    const o: RedisOptions = {
      host: host || '127.0.0.1',
      port,
      db: opts.db,
      connectTimeout: opts.dialTimeoutMs,
      commandTimeout: Math.max(opts.readTimeoutMs, opts.writeTimeoutMs),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      lazyConnect: false,
    };
    if (opts.username !== '') o.username = opts.username;
    if (opts.password !== '') o.password = opts.password;
    if (opts.tlsEnabled) {
      const t = opts.tls;
      o.tls = {
        ...(t.caFile !== '' ? { ca: readFileSync(t.caFile) } : {}),
        ...(t.certFile !== '' ? { cert: readFileSync(t.certFile) } : {}),
        ...(t.keyFile !== '' ? { key: readFileSync(t.keyFile) } : {}),
        ...(t.serverName !== '' ? { servername: t.serverName } : {}),
        rejectUnauthorized: !t.insecureSkipVerify,
      };
    }
    this.#client = new Redis(o as RedisOptions & { replyMapping?: never });
    // Connection errors are reported per command; without a listener ioredis logs each one.
    this.#client.on('error', () => {});
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const v = await this.#client.get(key);
      return v ?? undefined;
    } catch (err) {
      this.#onError('get', err);
      return undefined;
    }
  }

  async set(key: string, value: string): Promise<void> {
    try {
      await this.#client.set(key, value, 'PX', this.#opts.expirationMs);
    } catch (err) {
      this.#onError('set', err);
    }
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}
