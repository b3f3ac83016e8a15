import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type Logger, nopLogger, ThanosBlockError } from '../../block/index.js';
import { Encoding } from '../../chunkenc/index.js';
import { isTesseraError } from '../../errors/index.js';
import { Labels, LabelsBuilder, Matcher, MatchType, compareStrings } from '../../labels/index.js';
import { runLimited, type BucketReader } from '../../objstore/index.js';
import { PartialResponseStrategy, type AggrChunk, type InfoResponse, type LabelNamesRequest, type LabelNamesResponse, type LabelValuesRequest, type LabelValuesResponse, type SeriesRequest, type StoreSeries, type TSDBInfo } from '../../storepb/index.js';
import { chunkRefOffset, chunkRefSegment, segmentFileName, type BlockMeta, type IndexChunkMeta } from '../../tsdb/index.js';
import { chunkSamples } from '../limits.js';
import { matchExternalLabels, toMatchers } from '../matchers.js';
import { withExternalLabels } from '../local-store.js';
import { SeriesFrameWriter } from '../series-frame-writer.js';
import { sortLimit } from '../sort-limit.js';
import type { SeriesSink, StoreServer } from '../store-api.js';
import { GrpcCode, StoreError, abortReason, toStoreError } from '../store-error.js';
import { rawAggrChunk, toAggrChunk } from './aggr-chunk.js';
import { BlockCorruptError, BucketBlock, type ChunkFailure, type RawChunk } from './bucket-block.js';
import { ChunkFailures } from './chunk-failures.js';
import { coveredByReplicas } from './replica-coverage.js';
import { BlockSeriesCursor, type CursorEntry } from './block-series-cursor.js';
import { CursorHeap } from './cursor-heap.js';
import { Gate } from './gate.js';
import { ChunkCache, type CachedChunk } from './chunk-cache.js';
import { IndexCache, type IndexCacheItem } from './index-cache.js';
import type { RemoteCache } from './remote-cache.js';
import { QueryBudget, type QueryLimits } from './query-budget.js';
import { selectByResolution } from './resolution.js';

const MIN_INT64 = -9223372036854775808;
const MAX_INT64 = 9223372036854775807;

/** Options of a BucketStore. */
export interface BucketStoreOptions {
  readonly bucket: BucketReader;
  /** dataDir holds index-header files; undefined keeps them in memory only. */
  readonly dataDir?: string;
  /** indexCacheBytes is the LRU budget for postings and series (--index-cache-size, default 250 MiB). */
  readonly indexCacheBytes?: number;
  /**
   * chunkCacheBytes is the LRU budget for chunk records (--store.chunk-cache-size, default
   * 256 MiB); 0 disables the chunk cache (every chunk is read from the bucket on every request).
   */
  readonly chunkCacheBytes?: number;
  /**
   * indexCacheRemote / chunkCacheRemote are shared caches (Redis) behind the in-memory ones
   * (--index-cache.config, --store.caching-bucket.config with type REDIS); with a remote chunk
   * cache, chunkCacheBytes 0 keeps no chunks in memory but still caches them remotely.
   */
  readonly indexCacheRemote?: { readonly cache: RemoteCache; readonly ttlMs?: number };
  readonly chunkCacheRemote?: { readonly cache: RemoteCache; readonly ttlMs?: number };
  /** indexCacheMaxItemBytes: larger index items are not kept in memory (max_item_size; default half the budget). */
  readonly indexCacheMaxItemBytes?: number;
  /** indexCacheEnabledItems restricts the index cache to these item types (enabled_items). */
  readonly indexCacheEnabledItems?: readonly IndexCacheItem[];
  /**
   * headerCacheBytes bounds the memory of loaded index-headers (--store.index-header-cache-size,
   * default 1 GiB): beyond it the least recently used headers are unloaded (and reloaded from the
   * local data dir on their next use). 0 = unbounded.
   */
  readonly headerCacheBytes?: number;
  /** limits bound each request (0 = unlimited). */
  readonly limits?: QueryLimits;
  /** maxConcurrency bounds concurrent Series calls (--store.grpc.series-max-concurrency, default 20). */
  readonly maxConcurrency?: number;
  /** blockConcurrency bounds blocks processed at once per request (default 8). */
  readonly blockConcurrency?: number;
  /**
   * seriesBatchSize is the most series whose chunks are read at once (default 50000; Thanos's
   * --debug.series-batch-size is 10000). Batches are also cut by estimated bytes (an eighth of the
   * per-request in-flight limit).
   */
  readonly seriesBatchSize?: number;
  /** chunkHashes fills each chunk's xxHash64 (Chunk.hash) so queriers can drop identical chunks (default true, as Thanos). */
  readonly chunkHashes?: boolean;
  /** partitionGap: byte ranges closer than this are read together (default 512 KiB). */
  readonly partitionGap?: number;
  /** minTime/maxTime clamp the advertised time range (--min-time/--max-time). */
  readonly minTime?: number;
  readonly maxTime?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/** DEFAULT_HEADER_CACHE_BYTES is the default memory budget of loaded index-headers (1 GiB). */
const DEFAULT_HEADER_CACHE_BYTES = 1024 ** 3;

/** DEFAULT_CHUNK_CACHE_BYTES is the default chunk cache budget (256 MiB). */
export const DEFAULT_CHUNK_CACHE_BYTES = 256 * 1024 * 1024;

/** DEFAULT_SERIES_BATCH is the default most series per output batch. */
const DEFAULT_SERIES_BATCH = 50_000;

/**
 * entryBytes estimates the memory of one series waiting in an output batch: object headers, the
 * label array (label strings are shared with the index-header's symbol cache) and chunk metas.
 */
function entryBytes(e: CursorEntry): number {
  return 96 + 16 * e.labels.size + 48 * e.chunks.length;
}

class BucketStoreMetrics {
  readonly blocksLoaded: Gauge;
  readonly blocks: Gauge;
  readonly loads: Counter;
  readonly loadFailures: Counter;
  readonly drops: Counter<'reason'>;
  readonly fetchedBytes: Counter<'data_type'>;
  readonly fetchRequests: Counter<'data_type'>;
  readonly seriesTouched: Histogram;
  readonly requestDuration: Histogram;
  readonly blocksQueried: Histogram;
  readonly gateInFlight: Gauge;
  readonly failedBlocks: Gauge;
  readonly chunkFailures: Counter<'reason'>;
  readonly seriesLeftOut: Counter<'covered'>;
  readonly peakInFlight: Histogram;
  readonly headerEvictions: Counter;

  constructor(registry: Registry | undefined, store: BucketStore) {
    const registers = registry !== undefined ? [registry] : [];
    this.blocksLoaded = new Gauge({
      name: 'thanos_bucket_store_blocks_loaded',
      help: 'Number of blocks whose index-header is loaded.',
      registers,
      collect() {
        this.set(store.loadedBlocks());
      },
    });
    this.blocks = new Gauge({ name: 'tessera_bucket_store_blocks', help: 'Number of blocks known to the store (loaded lazily).', registers });
    this.loads = new Counter({ name: 'thanos_bucket_store_block_loads_total', help: 'Total number of remote block loading attempts.', registers });
    this.loadFailures = new Counter({ name: 'thanos_bucket_store_block_load_failures_total', help: 'Total number of failed remote block loading attempts.', registers });
    this.failedBlocks = new Gauge({
      name: 'tessera_bucket_store_failed_blocks',
      help: 'Number of blocks skipped because their index is corrupt or unreadable, or with chunks whose last read failed.',
      registers,
      collect() {
        this.set(store.failedBlocks());
      },
    });
    this.chunkFailures = new Counter({ name: 'tessera_bucket_store_chunk_read_failures_total', help: 'Chunks that could not be read by queries (reason: corrupt = missing or bad bytes, unavailable = failed read); their series of that block were left out.', labelNames: ['reason'], registers });
    this.seriesLeftOut = new Counter({ name: 'tessera_bucket_store_series_left_out_total', help: "Series of a block left out of a response because its chunks could not be read (covered: other replicas' blocks hold the same data).", labelNames: ['covered'], registers });
    for (const r of ['corrupt', 'unavailable']) this.chunkFailures.labels(r).inc(0);
    for (const c of ['true', 'false']) this.seriesLeftOut.labels(c).inc(0);
    this.drops = new Counter({ name: 'thanos_bucket_store_queries_dropped_total', help: 'Number of queries that were dropped due to a limit.', labelNames: ['reason'], registers });
    this.fetchedBytes = new Counter({ name: 'tessera_bucket_store_fetched_bytes_total', help: 'Bytes read from the bucket by queries, by data type.', labelNames: ['data_type'], registers });
    this.fetchRequests = new Counter({ name: 'tessera_bucket_store_fetch_requests_total', help: 'Ranged reads made by queries, by data type.', labelNames: ['data_type'], registers });
    this.seriesTouched = new Histogram({ name: 'thanos_bucket_store_series_data_touched', help: 'Number of series touched per request.', buckets: [1, 10, 100, 1000, 10000, 100000, 1000000], registers });
    this.requestDuration = new Histogram({ name: 'thanos_bucket_store_series_request_duration_seconds', help: 'Duration of Series requests.', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60], registers });
    this.blocksQueried = new Histogram({ name: 'thanos_bucket_store_series_blocks_queried', help: 'Number of blocks in a bucket store that were touched to satisfy a query.', buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000], registers });
    this.headerEvictions = new Counter({ name: 'tessera_bucket_store_index_header_evictions_total', help: 'Index-headers unloaded to stay within the index-header cache size.', registers });
    new Gauge({
      name: 'tessera_bucket_store_index_header_bytes',
      help: 'Memory held by loaded index-headers.',
      registers,
      collect() {
        this.set(store.headerBytes());
      },
    });
    this.peakInFlight = new Histogram({
      name: 'tessera_bucket_store_request_peak_in_flight_bytes',
      help: 'Most fetched bytes (postings, series, chunks) one request held in memory at once.',
      buckets: [64 * 1024, 1024 ** 2, 16 * 1024 ** 2, 64 * 1024 ** 2, 256 * 1024 ** 2, 1024 ** 3],
      registers,
    });
    this.gateInFlight = new Gauge({ name: 'thanos_bucket_store_series_gate_queries_in_flight', help: 'Number of Series requests running.', registers });
    for (const t of ['postings', 'series', 'chunks', 'header']) {
      this.fetchedBytes.labels(t).inc(0);
      this.fetchRequests.labels(t).inc(0);
    }
  }
}

/**
 * BucketStore serves the StoreAPI over the blocks of an object storage bucket, Thanos's store
 * gateway BucketStore. sync() sets the served blocks (from a MetaFetcher); nothing is read from a
 * block until a request touches it: its index-header is then built from ranged reads (or read
 * from `<dataDir>/<ULID>/index-header`), and postings, series and chunks are fetched with
 * coalesced ranged reads, postings and series through a byte-budgeted LRU.
 *
 * Series: blocks are picked per external-label set by time range and resolution
 * (max_resolution_window); each block's series get its external labels; the result is sorted by
 * final labels, equal series from several blocks are merged (chunks concatenated, sorted by
 * minTime), and chunks are read in batches while streaming. A block that cannot be read is
 * reported as a `warning` frame (and in metrics and the log), never silently left out; with the
 * ABORT strategy a transient bucket error fails the call. Limits (touched series, samples,
 * downloaded bytes) fail the call with ResourceExhausted.
 *
 * Chunk failures are isolated per block and series: a chunk that cannot be read (e.g. past the end
 * of a truncated segment file) leaves out only that block's part of the series it belongs to; the
 * other series, and the same series from other blocks (other replicas when the querier drops
 * replica labels), are sent. One warning per block names the block, file and offset; the failure is
 * logged at error level, counted (tessera_bucket_store_chunk_read_failures_total,
 * tessera_bucket_store_series_left_out_total) and the chunk is marked on its block
 * (tessera_bucket_store_failed_blocks) until a later query reads it successfully. With the ABORT
 * strategy the call fails only when no other block covers the left-out data.
 */
export class BucketStore implements StoreServer {
  readonly #o: BucketStoreOptions;
  readonly #cache: IndexCache;
  readonly #chunkCache: ChunkCache | undefined;
  readonly #gate: Gate;
  readonly #m: BucketStoreMetrics;
  readonly #logger: Logger;
  readonly #hashes: boolean;
  #blocks = new Map<string, BucketBlock>();

  constructor(opts: BucketStoreOptions) {
    this.#o = opts;
    const ir = opts.indexCacheRemote;
    this.#cache = new IndexCache({
      maxBytes: opts.indexCacheBytes ?? 250 * 1024 * 1024,
      ...(opts.indexCacheMaxItemBytes !== undefined ? { maxItemBytes: opts.indexCacheMaxItemBytes } : {}),
      ...(opts.indexCacheEnabledItems !== undefined ? { enabledItems: opts.indexCacheEnabledItems } : {}),
      ...(ir !== undefined ? { remote: ir.cache, ...(ir.ttlMs !== undefined ? { remoteTtlMs: ir.ttlMs } : {}) } : {}),
      ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
    });
    const chunkBytes = opts.chunkCacheBytes ?? DEFAULT_CHUNK_CACHE_BYTES;
    const cr = opts.chunkCacheRemote;
    this.#chunkCache =
      chunkBytes > 0 || cr !== undefined
        ? new ChunkCache({
            maxBytes: chunkBytes,
            ...(cr !== undefined ? { remote: cr.cache, ...(cr.ttlMs !== undefined ? { remoteTtlMs: cr.ttlMs } : {}) } : {}),
            ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
          })
        : undefined;
    this.#gate = new Gate(opts.maxConcurrency ?? 20);
    this.#m = new BucketStoreMetrics(opts.registry, this);
    this.#logger = opts.logger ?? nopLogger;
    this.#hashes = opts.chunkHashes ?? true;
  }

  /** loadedBlocks is the number of blocks with an index-header in memory. */
  loadedBlocks(): number {
    let n = 0;
    for (const b of this.#blocks.values()) if (b.loaded) n++;
    return n;
  }

  /** blocks returns the served blocks by ULID. */
  blocks(): ReadonlyMap<string, BucketBlock> {
    return this.#blocks;
  }

  /** chunkCache is the chunk cache (undefined when disabled). */
  get chunkCache(): ChunkCache | undefined {
    return this.#chunkCache;
  }

  /** indexCacheBytes is the memory used by the index cache. */
  get indexCacheBytes(): number {
    return this.#cache.sizeBytes;
  }

  /**
   * sync makes metas the served block set: new blocks are added (without any I/O), vanished
   * ones dropped along with their local index-header. Blocks that failed on a transient error
   * get another chance.
   */
  async sync(metas: ReadonlyMap<string, BlockMeta>): Promise<void> {
    const next = new Map<string, BucketBlock>();
    for (const [id, meta] of metas) {
      const old = this.#blocks.get(id);
      if (old !== undefined) {
        if (old.failure !== undefined && !isCorruption(old.failure)) old.failure = undefined;
        next.set(id, old);
        continue;
      }
      next.set(
        id,
        new BucketBlock({
          meta,
          bucket: this.#o.bucket,
          cache: this.#cache,
          ...(this.#chunkCache !== undefined ? { chunkCache: this.#chunkCache } : {}),
          ...(this.#o.dataDir !== undefined ? { dir: this.#o.dataDir } : {}),
          ...(this.#o.partitionGap !== undefined ? { partitionGap: this.#o.partitionGap } : {}),
        }),
      );
    }
    const gone = [...this.#blocks.keys()].filter((id) => !next.has(id));
    this.#blocks = next;
    this.#m.blocks.set(next.size);
    for (const id of gone) {
      this.#blocks.get(id)?.unload();
      if (this.#o.dataDir !== undefined) await rm(join(this.#o.dataDir, id), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** unloadIdle drops the in-memory index-headers of blocks unused for idleMs. */
  unloadIdle(idleMs: number, now = Date.now()): number {
    let n = 0;
    for (const b of this.#blocks.values()) {
      if (b.loaded && now - b.lastUsed > idleMs) {
        b.unload();
        n++;
      }
    }
    return n;
  }

  #timeRange(): { minTime: number; maxTime: number } {
    let minTime = MAX_INT64;
    let maxTime = MIN_INT64;
    for (const b of this.#blocks.values()) {
      if (b.meta.minTime < minTime) minTime = b.meta.minTime;
      if (b.meta.maxTime > maxTime) maxTime = b.meta.maxTime;
    }
    if (this.#blocks.size > 0) {
      if (this.#o.minTime !== undefined && this.#o.minTime > minTime) minTime = this.#o.minTime;
      if (this.#o.maxTime !== undefined && this.#o.maxTime < maxTime) maxTime = this.#o.maxTime;
    }
    return { minTime, maxTime };
  }

  info(): Promise<InfoResponse> {
    const { minTime, maxTime } = this.#timeRange();
    const sets = new Map<string, { labels: Labels; ranges: [number, number][] }>();
    for (const b of this.#blocks.values()) {
      const k = b.extLabels.key();
      let s = sets.get(k);
      if (s === undefined) sets.set(k, (s = { labels: b.extLabels, ranges: [] }));
      s.ranges.push([b.meta.minTime, b.meta.maxTime]);
    }
    const labelSets = [...sets.values()].map((s) => s.labels).filter((l) => !l.isEmpty());
    labelSets.sort(Labels.compare);
    const tsdbInfos: TSDBInfo[] = [];
    for (const s of [...sets.values()].sort((a, b) => Labels.compare(a.labels, b.labels))) {
      s.ranges.sort((a, b) => a[0] - b[0]);
      let cur: [number, number] | undefined;
      for (const r of s.ranges) {
        if (cur !== undefined && r[0] <= cur[1]) cur[1] = Math.max(cur[1], r[1]);
        else {
          if (cur !== undefined) tsdbInfos.push({ labels: s.labels, minTime: cur[0], maxTime: cur[1] });
          cur = [r[0], r[1]];
        }
      }
      if (cur !== undefined) tsdbInfos.push({ labels: s.labels, minTime: cur[0], maxTime: cur[1] });
    }
    return Promise.resolve({
      labelSets,
      componentType: 'store',
      store: { minTime, maxTime, supportsSharding: false, supportsWithoutReplicaLabels: true, tsdbInfos },
    });
  }

  /**
   * Picks the blocks for [mint, maxt]: time overlap, external labels not conflicting with the
   * matchers, then resolution selection per external-label set. Returns each block with the
   * matchers left after removing those on its external labels.
   */
  #select(mint: number, maxt: number, matchers: readonly Matcher[], maxRes: number | undefined): { block: BucketBlock; matchers: Matcher[] }[] {
    const groups = new Map<string, BucketBlock[]>();
    for (const b of this.#blocks.values()) {
      if (b.meta.maxTime <= mint || b.meta.minTime > maxt) continue;
      const k = b.extLabels.key();
      let g = groups.get(k);
      if (g === undefined) groups.set(k, (g = []));
      g.push(b);
    }
    const out: { block: BucketBlock; matchers: Matcher[] }[] = [];
    for (const g of groups.values()) {
      const rest = matchExternalLabels(matchers, g[0]!.extLabels);
      if (rest === undefined) continue;
      const picked =
        maxRes === undefined
          ? g
          : selectByResolution(
              g.map((b) => ({ minTime: b.meta.minTime, maxTime: b.meta.maxTime, resolution: b.resolution, b })),
              mint,
              maxt,
              maxRes,
            ).map((x) => x.b);
      for (const b of picked) out.push({ block: b, matchers: rest.length > 0 ? rest : [new Matcher(MatchType.Equal, '', '')] });
    }
    out.sort((a, b) => compareStrings(a.block.ulid, b.block.ulid));
    return out;
  }

  /** Reports a block problem: warning text, log and metrics; marks corruption on the block. */
  #blockFailed(b: BucketBlock, err: unknown, action: string, warnings: string[], abort: boolean): void {
    const corrupt = isCorruption(err);
    if (!corrupt && abort) throw toStoreError(err, `${action} of block ${b.ulid}`);
    if (corrupt && b.failure === undefined) b.failure = err as Error;
    const msg = `${action} of block ${b.ulid}: ${(err as Error).message ?? String(err)}`;
    warnings.push(corrupt ? `skipping corrupt block ${b.ulid}: ${msg}` : msg);
    this.#logger.warn('skipping block in query', { block: b.ulid, action, err });
  }

  /** failedBlocks is the number of blocks skipped as unreadable or with chunks whose last read failed. */
  failedBlocks(): number {
    let n = 0;
    for (const b of this.#blocks.values()) if (b.failure !== undefined || b.badChunks.size > 0) n++;
    return n;
  }

  /** headerBytes is the memory held by loaded index-headers. */
  headerBytes(): number {
    let n = 0;
    for (const b of this.#blocks.values()) n += b.headerBytes;
    return n;
  }

  /** Unloads least recently used index-headers while their memory exceeds headerCacheBytes. */
  #enforceHeaderBudget(): void {
    const max = this.#o.headerCacheBytes ?? DEFAULT_HEADER_CACHE_BYTES;
    if (max <= 0) return;
    let total = this.headerBytes();
    if (total <= max) return;
    const loaded = [...this.#blocks.values()].filter((b) => b.loaded).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const b of loaded) {
      if (total <= max) break;
      total -= b.headerBytes;
      b.unload();
      this.#m.headerEvictions.inc();
    }
  }

  #countLoad(b: BucketBlock, wasLoaded: boolean, failed: boolean): void {
    if (wasLoaded) return;
    if (!failed) this.#enforceHeaderBudget();
    this.#m.loads.inc();
    if (failed) this.#m.loadFailures.inc();
  }

  /** Runs fn for each selected block, turning block failures into warnings (or errors). */
  async #perBlock<T>(
    selected: readonly { block: BucketBlock; matchers: Matcher[] }[],
    action: string,
    abort: boolean,
    warnings: string[],
    signal: AbortSignal,
    fn: (b: BucketBlock, matchers: Matcher[]) => Promise<T>,
  ): Promise<(T | undefined)[]> {
    const results = new Array<T | undefined>(selected.length);
    const idx = selected.map((_, i) => i);
    await runLimited(idx, this.#o.blockConcurrency ?? 8, async (i) => {
      const { block, matchers } = selected[i]!;
      if (block.failure !== undefined) {
        this.#blockFailed(block, block.failure, action, warnings, abort);
        return;
      }
      const wasLoaded = block.loaded;
      try {
        results[i] = await fn(block, matchers);
        this.#countLoad(block, wasLoaded, false);
      } catch (err) {
        if (signal.aborted) throw abortReason(signal);
        if (err instanceof StoreError && (err.grpcCode === GrpcCode.ResourceExhausted || err.grpcCode === GrpcCode.Canceled || err.grpcCode === GrpcCode.InvalidArgument)) throw err;
        if (isTesseraError(err, 'TESSERA_BAD_REGEXP')) throw err;
        this.#countLoad(block, wasLoaded, !block.loaded);
        this.#blockFailed(block, err, action, warnings, abort);
      }
    });
    return results;
  }

  async series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
    const start = performance.now();
    await this.#gate.acquire(signal);
    this.#m.gateInFlight.inc();
    const budget = new QueryBudget(this.#o.limits ?? {});
    try {
      await this.#series(req, sink, signal, budget);
    } catch (err) {
      const e = toStoreError(err, 'select series');
      if (e.grpcCode === GrpcCode.ResourceExhausted) this.#m.drops.labels(e.message.includes('memory limit') ? 'memory' : e.message.includes('bytes') ? 'bytes' : e.message.includes('samples') ? 'samples' : 'series').inc();
      throw e;
    } finally {
      this.#gate.release();
      this.#m.gateInFlight.dec();
      this.#record(budget);
      this.#m.requestDuration.observe((performance.now() - start) / 1000);
    }
  }

  #record(b: QueryBudget): void {
    this.#m.fetchedBytes.labels('postings').inc(b.postingsBytes);
    this.#m.fetchedBytes.labels('series').inc(b.seriesBytes);
    this.#m.fetchedBytes.labels('chunks').inc(b.chunksBytes);
    this.#m.fetchedBytes.labels('header').inc(b.fetchedBytes - b.postingsBytes - b.seriesBytes - b.chunksBytes);
    for (const [k, n] of Object.entries(b.requests)) this.#m.fetchRequests.labels(k).inc(n);
    this.#m.seriesTouched.observe(b.touchedSeries);
    this.#m.peakInFlight.observe(b.peakInFlightBytes);
  }

  async #series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal, budget: QueryBudget): Promise<void> {
    const matchers = toMatchers(req.matchers);
    if (matchers.length === 0) throw new StoreError(GrpcCode.InvalidArgument, 'no matchers specified (excluding external labels)');
    const abort = req.partialResponseDisabled === true || req.partialResponseStrategy === PartialResponseStrategy.ABORT;
    const skipChunks = req.skipChunks === true;
    const selected = this.#select(req.minTime, req.maxTime, matchers, req.maxResolutionWindow ?? 0);
    this.#m.blocksQueried.observe(selected.length);
    const drop = new Set(req.withoutReplicaLabels ?? []);
    const warnings: string[] = [];
    const batchSize = this.#o.seriesBatchSize ?? DEFAULT_SERIES_BATCH;
    // Series metadata is read per block in batches; with many blocks each batch is smaller, so the
    // request holds about 4 output batches' worth of series metadata at most.
    const blockBatch = Math.max(64, Math.min(batchSize, Math.ceil((batchSize * 4) / Math.max(1, selected.length))));
    const opened: BlockSeriesCursor[] = [];
    const heap = new CursorHeap();
    // Replicas kept apart (only a hint names the replica labels): other replicas of a series that
    // cannot be read are looked up in the other selected blocks.
    const hinted = new Set(drop.size === 0 ? (req.replicaLabelsHint ?? []) : []);
    const fails = new ChunkFailures({ replicas: drop.size > 0 || hinted.size > 0, replicaLabels: hinted, abort, minTime: req.minTime, maxTime: req.maxTime });
    try {
      const cursors = await this.#perBlock(selected, 'select series', abort, warnings, signal, async (b, ms) => {
        const c = new BlockSeriesCursor({ block: b, matchers: ms, minTime: req.minTime, maxTime: req.maxTime, skipChunks, batchSize: blockBatch, withoutReplicaLabels: drop, budget, signal });
        opened.push(c);
        try {
          await c.open();
        } catch (err) {
          c.close();
          throw err;
        }
        return c;
      });
      // In ULID order, so equal series from several blocks keep ULID order.
      for (const c of cursors) if (c !== undefined && c.head() !== undefined) heap.push(c);
      const w = new SeriesFrameWriter(sink, req.responseBatchSize ?? 0);
      for (const warn of warnings) await w.warning(warn);
      const limit = req.limit !== undefined && req.limit > 0 ? req.limit : Infinity;
      const aggregates = req.aggregates ?? [];
      // An output batch is cut at batchSize series or when its estimated size (series metadata
      // plus chunk bytes) reaches an eighth of the in-flight limit. Chunk sizes are known only once
      // read: the estimate starts at 1 KiB a chunk, then uses the average seen. Larger batches mean
      // fewer, larger chunk reads (each block's chunks of one batch are read together).
      const target = budget.maxInFlightBytes > 0 ? budget.maxInFlightBytes / 8 : 64 * 1024 * 1024;
      let avgChunk = 1024;
      let readChunks = 0;
      let readChunkBytes = 0;
      let sent = 0;
      let batch: CursorEntry[][] = [];
      let batchChunks = 0;
      let batchMeta = 0;
      const flush = async (): Promise<void> => {
        try {
          readChunkBytes += await this.#sendBatch(batch, w, skipChunks, aggregates, budget, signal, fails, selected);
        } finally {
          budget.release(batchMeta);
        }
        readChunks += batchChunks;
        if (readChunks > 0 && readChunkBytes > 0) avgChunk = Math.max(16, readChunkBytes / readChunks);
        sent += batch.length;
        batch = [];
        batchChunks = 0;
        batchMeta = 0;
      };
      while (heap.size > 0) {
        if (signal.aborted) throw abortReason(signal);
        const c = heap.top()!;
        const e = c.head()!;
        const last = batch[batch.length - 1];
        if (last !== undefined && last[0]!.labels.equals(e.labels)) {
          last.push(e);
        } else {
          if (sent + batch.length >= limit) break;
          if (batch.length > 0 && (batch.length >= batchSize || batchMeta + (skipChunks ? 0 : batchChunks * avgChunk) >= target)) await flush();
          batch.push([e]);
        }
        const eb = entryBytes(e);
        budget.hold(eb, 'series waiting for their chunks');
        batchMeta += eb;
        batchChunks += e.chunks.length;
        const p = c.advance();
        if (p !== undefined) {
          try {
            await p;
          } catch (err) {
            // The block failed after some of its series were taken: report it (or fail the call).
            heap.pop();
            c.close();
            const ws: string[] = [];
            this.#rethrowLimits(err, signal);
            this.#blockFailed(c.block, err, `read series (after ${e.labels.toString()})`, ws, abort);
            for (const x of ws) await w.warning(x);
            continue;
          }
        }
        if (c.head() === undefined) heap.pop();
        else heap.fix();
      }
      if (batch.length > 0) await flush();
      // Under ABORT every failure left here is covered by other replicas (else the call failed):
      // no warning then, as a warning fails an ABORT request in the querier.
      if (!abort) for (const warn of fails.warnings()) await w.warning(warn);
      await w.flush();
    } finally {
      for (const c of opened) c.close();
      this.#reportChunkFailures(fails);
    }
  }

  /** Logs and counts the chunks a request could not read, per block. */
  #reportChunkFailures(fails: ChunkFailures): void {
    for (const [b, x] of fails.byBlock) {
      this.#m.chunkFailures.labels(x.first.corrupt ? 'corrupt' : 'unavailable').inc(x.chunks);
      if (x.series > x.covered) this.#m.seriesLeftOut.labels('false').inc(x.series - x.covered);
      if (x.covered > 0) this.#m.seriesLeftOut.labels('true').inc(x.covered);
      this.#logger.error('left out series of a block whose chunks cannot be read', {
        block: b.ulid,
        file: x.first.file,
        offset: x.first.offset,
        failed_chunks: x.chunks,
        series: x.series,
        covered_by_replicas: x.covered,
        marked_chunks: b.badChunks.size,
        err: x.first.err,
      });
    }
  }

  /** Rethrows errors that end the whole request rather than one block. */
  #rethrowLimits(err: unknown, signal: AbortSignal): void {
    if (signal.aborted) throw abortReason(signal);
    if (err instanceof StoreError && (err.grpcCode === GrpcCode.ResourceExhausted || err.grpcCode === GrpcCode.Canceled || err.grpcCode === GrpcCode.InvalidArgument)) throw err;
    if (isTesseraError(err, 'TESSERA_BAD_REGEXP')) throw err;
  }

  /**
   * otherReplicaChunks returns the chunk metas, in [minTime, maxTime], of the other replicas of
   * series part p: the same series (its own labels) in selected blocks whose external labels equal
   * p's block's except for the hinted replica labels, which must differ. Used only after a chunk
   * read failed, to judge whether dropping p loses data; empty when the block's external labels
   * hold no replica label (replicas are then not told apart by blocks).
   */
  async #otherReplicaChunks(p: CursorEntry, fails: ChunkFailures, selected: readonly { block: BucketBlock }[], budget: QueryBudget, signal: AbortSignal): Promise<IndexChunkMeta[][]> {
    const ext = p.block.extLabels;
    const replicaNames = ext.names().filter((n) => fails.replicaLabels.has(n));
    if (replicaNames.length === 0) return [];
    const common = ext.without(replicaNames);
    const own = p.labels.without(ext.names());
    const matchers: Matcher[] = [];
    own.forEach((n, v) => matchers.push(new Matcher(MatchType.Equal, n, v)));
    const out: IndexChunkMeta[][] = [];
    for (const { block: b } of selected) {
      if (b === p.block || !b.extLabels.without(fails.replicaLabels).equals(common)) continue;
      if (replicaNames.every((n) => b.extLabels.get(n) === ext.get(n))) continue;
      const c = new BlockSeriesCursor({ block: b, matchers, minTime: fails.minTime, maxTime: fails.maxTime, skipChunks: false, batchSize: 16, withoutReplicaLabels: new Set(), budget, signal });
      try {
        await c.open();
        for (let e = c.head(); e !== undefined; e = c.head()) {
          if (e.labels.without(b.extLabels.names()).equals(own)) out.push([...e.chunks]);
          const next = c.advance();
          if (next !== undefined) await next;
        }
      } catch {
        // An unreadable replica covers nothing.
      } finally {
        c.close();
      }
    }
    return out;
  }

  /**
   * Reads the chunks of a batch of series groups (each group: the same series from one or more
   * blocks), coalesced per block, and sends the series; the chunk bytes are released once sent.
   * Returns the chunk bytes read.
   *
   * A chunk that cannot be read fails only its block's part of the series: that part is left out,
   * the rest of the series (other blocks, e.g. other replicas when replica labels are dropped) and
   * every other series are sent. Failures are collected per block in `fails` for one warning per
   * block at the end; under the ABORT strategy the call fails only when the data is really missing,
   * i.e. the other blocks of the same series do not cover the left-out time range.
   */
  async #sendBatch(batch: readonly CursorEntry[][], w: SeriesFrameWriter, skipChunks: boolean, aggregates: readonly number[], budget: QueryBudget, signal: AbortSignal, fails: ChunkFailures, selected: readonly { block: BucketBlock }[]): Promise<number> {
    // Per block: the chunks of the refs listed below (in the order of the batch's entries), and
    // `pos`, where the next entry's chunks start in them.
    const chunkData = new Map<BucketBlock, { chunks: readonly (RawChunk | undefined)[]; failed: Map<number, ChunkFailure>; pos: number }>();
    let held = 0;
    try {
      if (!skipChunks) {
        const refsByBlock = new Map<BucketBlock, number[]>();
        for (const g of batch) {
          for (const p of g) {
            let l = refsByBlock.get(p.block);
            if (l === undefined) refsByBlock.set(p.block, (l = []));
            for (const c of p.chunks) l.push(c.ref);
          }
        }
        await runLimited([...refsByBlock.keys()], this.#o.blockConcurrency ?? 8, async (b) => {
          const refs = refsByBlock.get(b)!;
          try {
            const r = await b.chunks(refs, budget, signal);
            held += r.held;
            chunkData.set(b, { chunks: r.chunks, failed: r.failed, pos: 0 });
          } catch (err) {
            this.#rethrowLimits(err, signal);
            // Not expected (chunks() reports read failures per chunk), but still only this block's.
            const failed = new Map<number, ChunkFailure>();
            const e = err instanceof Error ? err : new Error(String(err));
            for (const ref of refs) failed.set(ref, { file: `${b.ulid}/chunks/${segmentFileName(chunkRefSegment(ref))}`, offset: chunkRefOffset(ref), err: e, corrupt: isCorruption(err) });
            chunkData.set(b, { chunks: [], failed, pos: 0 });
          }
        });
      }
      const part: AggrChunk[] = [];
      for (const g of batch) {
        const chunks: AggrChunk[] = [];
        if (!skipChunks) {
          let lost: CursorEntry[] | undefined;
          for (const p of g) {
            const data = chunkData.get(p.block)!;
            const at = data.pos;
            data.pos += p.chunks.length;
            part.length = 0;
            let failure: ChunkFailure | undefined;
            const anyFailed = data.failed.size > 0;
            for (let j = 0; j < p.chunks.length; j++) {
              const c = p.chunks[j]!;
              if (anyFailed) {
                failure = data.failed.get(c.ref);
                if (failure !== undefined) break;
              }
              const raw = data.chunks[at + j];
              if (raw === undefined) {
                failure = { file: `${p.block.ulid}/chunks/${segmentFileName(chunkRefSegment(c.ref))}`, offset: chunkRefOffset(c.ref), err: new BlockCorruptError(p.block.ulid, `read chunk ${c.ref} of block ${p.block.ulid}: not found`), corrupt: true };
                break;
              }
              if (raw.encoding !== Encoding.Aggr && raw.hashed !== undefined) {
                // A cached raw chunk carries its AggrChunk, encoded once (see rawAggrChunk).
                part.push(rawAggrChunk(raw as CachedChunk, c, this.#hashes));
                continue;
              }
              // The place is named only in errors about aggregate chunks.
              part.push(toAggrChunk(raw.encoding, raw.data, c.minTime, c.maxTime, aggregates, raw.encoding === Encoding.Aggr ? `${c.ref} of block ${p.block.ulid}` : '', this.#hashes, raw.hashed));
            }
            if (failure !== undefined) {
              (lost ??= []).push(p);
              fails.add(p.block, failure);
              continue;
            }
            for (const ac of part) {
              budget.addSamples(chunkSamples(ac));
              chunks.push(ac);
            }
          }
          if (lost !== undefined) {
            const others = g.filter((p) => !lost.includes(p)).map((p) => p.chunks);
            if (fails.replicaLabels.size > 0) for (const p of lost) others.push(...(await this.#otherReplicaChunks(p, fails, selected, budget, signal)));
            const covered = fails.replicas && others.length > 0 && coveredByReplicas(lost.flatMap((p) => p.chunks), others, fails.minTime, fails.maxTime);
            fails.series(lost, covered);
            if (chunks.length === 0) continue;
          }
          if (g.length > 1 && !partsInOrder(g, lost)) chunks.sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
        }
        const s: StoreSeries = { labels: g[0]!.labels, chunks };
        const p = w.series(s);
        if (p !== undefined) await p;
      }
      // Frames queued for a batched response still reference the chunk bytes: send them first.
      await w.flush();
      return held;
    } finally {
      budget.release(held);
    }
  }

  /** Series of the selected blocks without chunks, for label calls with matchers. */
  async #labelSeries(start: number, end: number, matchers: readonly Matcher[], drop: ReadonlySet<string>, warnings: string[], abort: boolean, budget: QueryBudget, signal: AbortSignal, each: (ls: Labels) => void, onHeaderOnly: (b: BucketBlock, ext: Labels) => Promise<void>, narrow?: (b: BucketBlock) => Matcher | undefined): Promise<void> {
    const selected = this.#select(start, end, matchers, undefined);
    await this.#perBlock(selected, 'select labels', abort, warnings, signal, async (b, ms) => {
      const dropExt = [...drop].filter((n) => b.extLabels.has(n));
      const ext = dropExt.length === 0 ? b.extLabels : b.extLabels.without(dropExt);
      const onlyAll = ms.length === 1 && ms[0]!.name === '' && ms[0]!.value === '';
      // The index-header answers exactly only when the block lies inside [start, end]; otherwise
      // series are checked for data in the range.
      const inside = b.meta.minTime >= start && b.meta.maxTime - 1 <= end;
      if (onlyAll && inside) {
        await onHeaderOnly(b, ext);
        return;
      }
      const n = onlyAll ? narrow?.(b) : undefined;
      const h = await b.header(budget, signal);
      const refs = await b.expandedPostings(n !== undefined ? [n] : ms, budget, signal);
      budget.touch(refs.length);
      const builder = new LabelsBuilder();
      // Batch by batch, so only one batch of series entries is in memory.
      const step = Math.min(10_000, this.#o.seriesBatchSize ?? DEFAULT_SERIES_BATCH);
      for (let i = 0; i < refs.length; i += step) {
        if (signal.aborted) throw abortReason(signal);
        const part = refs.slice(i, i + step);
        const bodies = await b.seriesBodies(part, budget, signal, refs[i + step]);
        let held = 0;
        for (const x of bodies) held += x.length;
        budget.hold(held, `series of block ${b.ulid}`);
        try {
          for (let k = 0; k < part.length; k++) {
            const e = b.decodeEntry(h, bodies[k]!, part[k]!, start, end, true);
            if (e === undefined) continue;
            const full = withExternalLabels(builder, e.labels, b.extLabels);
            each(dropExt.length > 0 ? full.without(dropExt) : full);
          }
        } finally {
          budget.release(held);
        }
      }
    });
  }

  async labelNames(req: LabelNamesRequest, signal: AbortSignal): Promise<LabelNamesResponse> {
    const budget = new QueryBudget(this.#o.limits ?? {});
    try {
      const matchers = toMatchers(req.matchers);
      const abort = req.partialResponseDisabled === true || req.partialResponseStrategy === PartialResponseStrategy.ABORT;
      const drop = new Set(req.withoutReplicaLabels ?? []);
      const names = new Set<string>();
      const warnings: string[] = [];
      await this.#labelSeries(req.start, req.end, matchers, drop, warnings, abort, budget, signal, (ls) => ls.forEach((n) => names.add(n)), async (b, ext) => {
        for (const n of await b.labelNames(budget, signal)) names.add(n);
        ext.forEach((n) => names.add(n));
      });
      return { names: sortLimit([...names], req.limit), warnings };
    } catch (err) {
      throw toStoreError(err, 'get label names');
    } finally {
      this.#record(budget);
    }
  }

  async labelValues(req: LabelValuesRequest, signal: AbortSignal): Promise<LabelValuesResponse> {
    if (req.label === '') throw new StoreError(GrpcCode.InvalidArgument, 'label name parameter cannot be empty');
    const budget = new QueryBudget(this.#o.limits ?? {});
    try {
      const matchers = toMatchers(req.matchers);
      const abort = req.partialResponseDisabled === true || req.partialResponseStrategy === PartialResponseStrategy.ABORT;
      const drop = new Set(req.withoutReplicaLabels ?? []);
      const values = new Set<string>();
      const warnings: string[] = [];
      await this.#labelSeries(req.start, req.end, matchers, drop, warnings, abort, budget, signal, (ls) => {
        const v = ls.get(req.label);
        if (v !== '') values.add(v);
      }, async (b, ext) => {
        if (ext.has(req.label)) values.add(ext.get(req.label));
        else if (!b.extLabels.has(req.label)) for (const v of await b.labelValues(req.label, budget, signal)) values.add(v);
      }, (b) => (b.extLabels.has(req.label) ? undefined : new Matcher(MatchType.Regexp, req.label, '.+')));
      return { values: sortLimit([...values], req.limit), warnings };
    } catch (err) {
      throw toStoreError(err, `get values of label ${req.label}`);
    } finally {
      this.#record(budget);
    }
  }
}


/**
 * partsInOrder reports whether the chunks of g's parts (but the lost ones), one after the other, are
 * in (minTime, maxTime) order, as the sort orders them (which then leaves them as they are). The
 * chunks of one series in a block always are (the index encodes each chunk's minTime as a
 * non-negative delta from the previous maxTime, and its maxTime from its minTime), so only where
 * one part ends and the next starts is checked.
 */
function partsInOrder(g: readonly CursorEntry[], lost: readonly CursorEntry[] | undefined): boolean {
  let last: IndexChunkMeta | undefined;
  for (const p of g) {
    if (lost !== undefined && lost.includes(p)) continue;
    const first = p.chunks[0];
    if (first === undefined) continue;
    if (last !== undefined && (last.minTime > first.minTime || (last.minTime === first.minTime && last.maxTime > first.maxTime))) return false;
    last = p.chunks[p.chunks.length - 1]!;
  }
  return true;
}

/** isCorruption tells data problems of a block (skip it) from transient ones (retry later). */
function isCorruption(err: unknown): boolean {
  if (err instanceof BlockCorruptError || err instanceof ThanosBlockError) return true;
  return isTesseraError(err) && /CORRUPT|CHECKSUM|INVALID/.test(err.code);
}
