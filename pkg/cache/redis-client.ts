import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';

/** RedisClientOptions are the `REDIS` config of Thanos's cache YAML (durations in ms). */
export interface RedisClientOptions {
  readonly addr: string;
  /** prefix is put before every key (Thanos's `prefix`). */
  readonly prefix?: string;
  readonly username: string;
  readonly password: string;
  readonly db: number;
  readonly dialTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
  /** getMultiBatchSize bounds the keys of one MGET (0 = no limit; Thanos's get_multi_batch_size). */
  readonly getMultiBatchSize?: number;
  /** expirationMs is the TTL of written items. */
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

/** RedisErrorHandler is told about each failed cache operation. */
export type RedisErrorHandler = (op: 'get' | 'set', err: unknown) => void;

/**
 * RedisClient is the Redis connection of every cache (query-frontend results, store index and
 * chunk caches), on ioredis. It never throws: commands fail fast instead of queueing while Redis
 * is unreachable (no offline queue) and time out after the read/write timeout; a failed read is a
 * miss and a failed write is dropped, both reported to onError. It reconnects in the background,
 * so a Redis that comes back is used again. Concurrent commands are pipelined automatically.
 */
export class RedisClient {
  readonly #client: Redis;
  readonly #opts: RedisClientOptions;
  readonly #onError: RedisErrorHandler;
  readonly #prefix: string;

  constructor(opts: RedisClientOptions, onError: RedisErrorHandler = () => {}) {
    this.#opts = opts;
    this.#onError = onError;
    this.#prefix = opts.prefix ?? '';
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
      enableAutoPipelining: true,
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

  /**
   * waitReady resolves true once connected (at most timeoutMs, default the dial timeout), false
   * if not: until then commands fail fast as misses, so a component waits for it at start.
   */
  waitReady(timeoutMs = this.#opts.dialTimeoutMs): Promise<boolean> {
    if (this.#client.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.#client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#client.on('ready', onReady);
    });
  }

  /** expirationMs is the TTL of written items. */
  get expirationMs(): number {
    return this.#opts.expirationMs;
  }

  /** get returns the string at key; undefined when absent or Redis fails. */
  async get(key: string): Promise<string | undefined> {
    try {
      const v = await this.#client.get(this.#prefix + key);
      return v ?? undefined;
    } catch (err) {
      this.#onError('get', err);
      return undefined;
    }
  }

  /** set writes a string with the TTL (ttlMs, default expirationMs); a failure is dropped. */
  async set(key: string, value: string | Uint8Array, ttlMs = this.#opts.expirationMs): Promise<void> {
    try {
      await this.#client.set(this.#prefix + key, typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength), 'PX', Math.max(1, Math.round(ttlMs)));
    } catch (err) {
      this.#onError('set', err);
    }
  }

  /**
   * getMulti returns the bytes at keys (undefined where absent), with MGETs of at most
   * getMultiBatchSize keys; a failed batch is all misses.
   */
  async getMulti(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const out = new Array<Uint8Array | undefined>(keys.length);
    if (keys.length === 0) return out;
    const size = this.#opts.getMultiBatchSize !== undefined && this.#opts.getMultiBatchSize > 0 ? this.#opts.getMultiBatchSize : keys.length;
    const batches: Promise<void>[] = [];
    for (let at = 0; at < keys.length; at += size) {
      const from = at;
      const batch = keys.slice(from, from + size).map((k) => this.#prefix + k);
      batches.push(
        this.#client.mgetBuffer(batch).then(
          (vals) => {
            for (let j = 0; j < vals.length; j++) {
              const v = vals[j];
              // A copy: reply buffers may be views into a larger socket buffer.
              if (v !== null && v !== undefined) out[from + j] = new Uint8Array(v);
            }
          },
          (err: unknown) => this.#onError('get', err),
        ),
      );
    }
    await Promise.all(batches);
    return out;
  }

  /** setMulti writes items in the background (pipelined); failures are dropped and reported. */
  setMulti(items: readonly (readonly [string, Uint8Array])[], ttlMs = this.#opts.expirationMs): void {
    for (const [k, v] of items) void this.set(k, v, ttlMs);
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }
}
