import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  BlockMarksFilter,
  IgnoreDeletionMarkFilter,
  LabelShardedMetaFilter,
  MetaFetcher,
  TimePartitionMetaFilter,
  nopLogger,
  type Logger,
  type MetaFilter,
  type RelabelConfig,
} from '../block/index.js';
import { BlocksInfo, blockMarkAction, closeHttp, createBucketWebApp, createHttpServer, marksJson, type WebConfig } from '../api/index.js';
import type { Bucket } from '../objstore/index.js';
import { RedisClient } from '../cache/index.js';
import { BucketStore, GrpcCode, StoreError, StoreGrpcServer, type QueryLimits, type StoreCacheConfig, type StoreGrpcServerOptions } from '../store/index.js';

const MIN_INT64 = -9223372036854775808;
const MAX_INT64 = 9223372036854775807;

/** Options of a StoreGateway (the `tessera store` component). */
export interface StoreGatewayOptions {
  readonly bucket: Bucket;
  /** dataDir holds index-headers and the meta.json cache (--data-dir). */
  readonly dataDir: string;
  /** grpcAddress is host:port of the StoreAPI (--grpc-address); port 0 picks one. */
  readonly grpcAddress: string;
  /** httpHost/httpPort serve /metrics, /-/healthy, /-/ready (--http-address). */
  readonly httpHost: string;
  readonly httpPort: number;
  readonly registry: Registry;
  readonly logger?: Logger;
  /** indexCacheBytes is the in-memory index cache budget (--index-cache-size). */
  readonly indexCacheBytes?: number;
  /** chunkCacheBytes is the in-memory chunk cache budget (--store.chunk-cache-size, 256 MiB; 0 disables). */
  readonly chunkCacheBytes?: number;
  /** headerCacheBytes bounds the memory of loaded index-headers (--store.index-header-cache-size, 1 GiB). */
  readonly headerCacheBytes?: number;
  /** syncIntervalMs is the meta sync period (--sync-block-duration, 15m). */
  readonly syncIntervalMs?: number;
  /** blockSyncConcurrency reads deletion marks (--block-sync-concurrency, 20). */
  readonly blockSyncConcurrency?: number;
  /** metaFetchConcurrency reads meta.json files (--block-meta-fetch-concurrency, 32). */
  readonly metaFetchConcurrency?: number;
  /** ignoreDeletionMarksDelayMs (--ignore-deletion-marks-delay, 24h). */
  readonly ignoreDeletionMarksDelayMs?: number;
  /** minTime/maxTime serve only blocks overlapping this range (--min-time/--max-time). */
  readonly minTime?: number;
  readonly maxTime?: number;
  /** relabel selects blocks by external labels (--selector.relabel-config). */
  readonly relabel?: readonly RelabelConfig[];
  readonly limits?: QueryLimits;
  /** maxConcurrency of Series calls (--store.grpc.series-max-concurrency, 20). */
  readonly maxConcurrency?: number;
  /** idleTimeoutMs unloads unused index-headers (--store.index-header-lazy-reader-idle-timeout, 5m; 0 = never). */
  readonly idleTimeoutMs?: number;
  /** discovery of blocks (--block-discovery-strategy): 'recursive' (default) or 'concurrent'. */
  readonly discovery?: 'recursive' | 'concurrent';
  /** grpcCredentials of the StoreAPI server (--grpc-server-tls-*; default plain text). */
  readonly grpcCredentials?: StoreGrpcServerOptions['credentials'];
  /** webConfig: TLS, basic auth and headers of the HTTP server (--http.config). */
  readonly webConfig?: WebConfig;
  /** grpcGracePeriodMs: how long stop() lets Series calls in flight finish (--grpc-grace-period; default 5 s). */
  readonly grpcGracePeriodMs?: number;
  /** grpcMaxConnectionAgeMs: gRPC connections are closed gracefully after this long (--grpc-server-max-connection-age; default no limit). */
  readonly grpcMaxConnectionAgeMs?: number;
  /** httpGracePeriodMs: how long stop() lets HTTP requests in flight finish (--http-grace-period; default 5 s). */
  readonly httpGracePeriodMs?: number;
  /** bucketWebLabel titles block groups in the bucket UI (--bucket-web-label). */
  readonly bucketWebLabel?: string;
  /** disableAdminOperations turns off POST /api/v1/blocks/mark (--disable-admin-operations). */
  readonly disableAdminOperations?: boolean;
  /** disableWeb serves health, metrics and status only on HTTP, no blocks API and no bucket UI (--web.disable). */
  readonly disableWeb?: boolean;
  /** externalPrefix of links in the UI (--web.external-prefix). */
  readonly externalPrefix?: string;
  /**
   * indexCacheConfig (--index-cache.config): IN-MEMORY replaces indexCacheBytes with its max_size;
   * REDIS puts a shared Redis behind an in-memory LRU of cache_size bytes (0: Redis only).
   */
  readonly indexCacheConfig?: StoreCacheConfig;
  /** cachingBucketConfig (--store.caching-bucket.config) does the same for the chunk cache. */
  readonly cachingBucketConfig?: StoreCacheConfig;
}

/**
 * StoreGateway is the store gateway component: it syncs block metas from the bucket (skipping
 * blocks without or with a corrupt meta.json, old deletion marks, and those outside the time
 * and label selection), serves them with a BucketStore over gRPC (StoreAPI, Info, health), and
 * exposes /metrics, /-/healthy and /-/ready over HTTP. It is ready once the first sync is done;
 * index-headers are loaded lazily by queries, so start-up does not read any index. The sync loop
 * catches, logs and counts its errors and keeps serving the last good block set.
 */
export class StoreGateway {
  readonly #o: StoreGatewayOptions;
  readonly #logger: Logger;
  readonly store: BucketStore;
  readonly #fetcher: MetaFetcher;
  readonly #grpc: StoreGrpcServer;
  #http: Server | undefined;
  #ready = false;
  readonly #ac = new AbortController();
  #loop: Promise<void> | undefined;
  readonly #syncFailures: Counter;
  readonly #lastSync: Gauge;
  readonly #marks: BlockMarksFilter;
  readonly #redis: RedisClient[] = [];
  /** blocks is the /api/v1/blocks view: the blocks served after the last sync, with their marks. */
  readonly blocks: BlocksInfo;
  /** grpcPort and httpPort are the bound ports after start(). */
  grpcPort = 0;
  httpPort = 0;

  constructor(o: StoreGatewayOptions) {
    this.#o = o;
    this.#logger = o.logger ?? nopLogger;
    const filters: MetaFilter[] = [];
    if (o.minTime !== undefined || o.maxTime !== undefined) filters.push(new TimePartitionMetaFilter(o.minTime ?? MIN_INT64, o.maxTime ?? MAX_INT64));
    if (o.relabel !== undefined && o.relabel.length > 0) filters.push(new LabelShardedMetaFilter(o.relabel));
    filters.push(
      new IgnoreDeletionMarkFilter({
        bucket: o.bucket,
        delayMs: o.ignoreDeletionMarksDelayMs ?? 24 * 3_600_000,
        concurrency: o.blockSyncConcurrency ?? 20,
        logger: this.#logger,
      }),
    );
    this.#marks = new BlockMarksFilter(o.bucket, o.blockSyncConcurrency ?? 20);
    filters.push(this.#marks);
    this.blocks = new BlocksInfo(o.bucketWebLabel ?? '');
    this.#fetcher = new MetaFetcher({
      bucket: o.bucket,
      filters,
      concurrency: o.metaFetchConcurrency ?? 32,
      cacheDir: `${o.dataDir}/meta-syncer`,
      discovery: o.discovery ?? 'recursive',
      registry: o.registry,
      logger: this.#logger,
    });
    const cacheFailures = new Counter({
      name: 'tessera_store_cache_operation_failures_total',
      help: 'Failed operations on the remote (Redis) index and chunk caches; each failed lookup was a miss, each failed write dropped.',
      labelNames: ['cache', 'operation'],
      registers: [o.registry],
    });
    const redisFor = (cfg: StoreCacheConfig | undefined, cache: 'index' | 'chunks'): { cache: RedisClient; ttlMs: number } | undefined => {
      if (cfg?.redis === undefined) return undefined;
      for (const op of ['get', 'set']) cacheFailures.labels(cache, op).inc(0);
      const client = new RedisClient(cfg.redis, (op) => cacheFailures.labels(cache, op).inc());
      this.#redis.push(client);
      return { cache: client, ttlMs: cfg.ttlMs };
    };
    const ic = o.indexCacheConfig;
    const cc = o.cachingBucketConfig;
    const indexRemote = redisFor(ic, 'index');
    const chunkRemote = redisFor(cc, 'chunks');
    const chunkCacheBytes = cc !== undefined ? cc.inMemoryBytes : o.chunkCacheBytes;
    this.store = new BucketStore({
      bucket: o.bucket,
      dataDir: o.dataDir,
      indexCacheBytes: ic !== undefined ? ic.inMemoryBytes : (o.indexCacheBytes ?? 250 * 1024 * 1024),
      ...(ic?.maxItemBytes !== undefined ? { indexCacheMaxItemBytes: ic.maxItemBytes } : {}),
      ...(ic?.enabledItems !== undefined ? { indexCacheEnabledItems: ic.enabledItems } : {}),
      ...(indexRemote !== undefined ? { indexCacheRemote: indexRemote } : {}),
      ...(chunkRemote !== undefined ? { chunkCacheRemote: chunkRemote } : {}),
      ...(chunkCacheBytes !== undefined ? { chunkCacheBytes } : {}),
      ...(o.headerCacheBytes !== undefined ? { headerCacheBytes: o.headerCacheBytes } : {}),
      ...(o.limits !== undefined ? { limits: o.limits } : {}),
      ...(o.maxConcurrency !== undefined ? { maxConcurrency: o.maxConcurrency } : {}),
      ...(o.minTime !== undefined ? { minTime: o.minTime } : {}),
      ...(o.maxTime !== undefined ? { maxTime: o.maxTime } : {}),
      registry: o.registry,
      logger: this.#logger,
    });
    // Until the first block sync is done the block set is empty: answering Info then would
    // advertise no data (a querier polling at that moment would skip this store until its next
    // check), and answering Series would silently return nothing. Every call fails with
    // UNAVAILABLE instead, so queriers retry and report it.
    const store = this.store;
    const notReady = (): StoreError => new StoreError(GrpcCode.Unavailable, 'store gateway is not ready: initial block sync not done');
    this.#grpc = new StoreGrpcServer(
      {
        info: () => (this.#ready ? store.info() : Promise.reject(notReady())),
        series: (req, sink, signal) => (this.#ready ? store.series(req, sink, signal) : Promise.reject(notReady())),
        labelNames: (req, signal) => (this.#ready ? store.labelNames(req, signal) : Promise.reject(notReady())),
        labelValues: (req, signal) => (this.#ready ? store.labelValues(req, signal) : Promise.reject(notReady())),
      },
      {
        onError: (err, action) => this.#logger.error('unexpected error in a gRPC call', { action, err }),
        ...(o.grpcCredentials !== undefined ? { credentials: o.grpcCredentials } : {}),
        ...(o.grpcMaxConnectionAgeMs !== undefined ? { maxConnectionAgeMs: o.grpcMaxConnectionAgeMs } : {}),
      },
    );
    this.#syncFailures = new Counter({ name: 'tessera_store_gateway_sync_failures_total', help: 'Failed block syncs of the store gateway.', registers: [o.registry] });
    this.#lastSync = new Gauge({ name: 'tessera_store_gateway_last_successful_sync_timestamp_seconds', help: 'Unix time of the last successful block sync.', registers: [o.registry] });
  }

  /** ready reports whether the first block sync has completed. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * start serves HTTP (healthy, not ready), then gRPC, runs the first sync and becomes ready, then
   * keeps syncing every syncIntervalMs. A failing first sync is retried (with the gateway not
   * ready) instead of exiting.
   */
  async start(): Promise<void> {
    this.#http = await this.#startHttp();
    // Until Redis is connected, cache lookups are misses: give it the dial timeout to connect.
    const connected = await Promise.all(this.#redis.map((c) => c.waitReady()));
    if (connected.includes(false)) this.#logger.warn('Redis cache not reachable yet; serving from the bucket until it is', {});
    this.grpcPort = await this.#grpc.listen(this.#o.grpcAddress);
    this.#logger.info('listening for StoreAPI gRPC', { address: this.#o.grpcAddress, port: this.grpcPort });
    const first = await this.syncOnce();
    if (first) {
      this.#ready = true;
      this.#logger.info('initial block sync done; ready', { blocks: this.store.blocks().size });
    }
    this.#loop = this.#run();
  }

  /** syncOnce runs one meta sync and hands the result to the store; false when it failed. */
  async syncOnce(): Promise<boolean> {
    const start = performance.now();
    try {
      const res = await this.#fetcher.fetch(this.#ac.signal);
      await this.store.sync(res.metas);
      this.blocks.set(res.metas.values(), marksJson(this.#marks.marks()));
      this.#lastSync.set(Date.now() / 1000);
      this.#logger.debug('synced blocks', { blocks: res.metas.size, partial: res.partial.size, tookMs: Math.round(performance.now() - start) });
      if (this.#o.idleTimeoutMs !== undefined && this.#o.idleTimeoutMs > 0) this.store.unloadIdle(this.#o.idleTimeoutMs);
      return true;
    } catch (err) {
      if (this.#ac.signal.aborted) return false;
      this.#syncFailures.inc();
      this.blocks.setError(err);
      this.#logger.error('sync blocks from the bucket', { err });
      return false;
    }
  }

  async #run(): Promise<void> {
    const every = this.#o.syncIntervalMs ?? 15 * 60_000;
    // Until the first sync succeeded, retry sooner.
    while (!this.#ac.signal.aborted) {
      const wait = this.#ready ? every : Math.min(every, 5000);
      const idle = this.#o.idleTimeoutMs ?? 0;
      await sleep(idle > 0 ? Math.min(wait, idle) : wait, this.#ac.signal);
      if (this.#ac.signal.aborted) return;
      if (idle > 0) this.store.unloadIdle(idle);
      if (await this.syncOnce()) {
        if (!this.#ready) this.#logger.info('block sync done; ready', { blocks: this.store.blocks().size });
        this.#ready = true;
      }
    }
  }

  /** stop ends the sync loop and both servers. */
  async stop(): Promise<void> {
    this.#ac.abort();
    await this.#loop?.catch(() => undefined);
    await this.#fetcher.flush();
    const http = this.#http;
    // gRPC and HTTP stop together, each letting calls in flight finish within its grace period.
    await Promise.all([this.#grpc.stop(this.#o.grpcGracePeriodMs), http !== undefined ? closeHttp(http, this.#o.httpGracePeriodMs ?? 5000) : undefined]);
    await Promise.all(this.#redis.map((c) => c.close()));
  }

  /**
   * Serves /metrics, /-/healthy, /-/ready (503 until the first sync), /api/v1/blocks (the loaded
   * blocks, also as `?view=loaded`) and the bucket UI.
   */
  #startHttp(): Promise<Server> {
    const app = createBucketWebApp({
      global: this.blocks,
      view: 'loaded',
      name: 'Tessera Store',
      ready: () => this.#ready,
      web: this.#o.disableWeb !== true,
      registry: this.#o.registry,
      ...(this.#o.disableAdminOperations === true ? {} : { mark: blockMarkAction(this.#o.bucket) }),
      ...(this.#o.externalPrefix !== undefined ? { externalPrefix: this.#o.externalPrefix } : {}),
    });
    const srv = createHttpServer(app, this.#o.webConfig);
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.#o.httpPort, this.#o.httpHost, () => {
        this.httpPort = (srv.address() as AddressInfo).port;
        this.#logger.info('listening for HTTP', { address: `${this.#o.httpHost}:${this.httpPort}` });
        resolve(srv);
      });
    });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

