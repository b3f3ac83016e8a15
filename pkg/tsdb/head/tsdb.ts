import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TesseraError } from '../../errors/index.js';
import { compareStrings, type Labels, type Matcher } from '../../labels/index.js';
import {
  mergeChunkSeriesSets,
  mergeLabelResults,
  mergeSeriesSets,
  type Appendable,
  type Appender,
  type CallOptions,
  type ChunkQuerier,
  type ChunkQueryable,
  type LabelHints,
  type LabelQuerier,
  type LabelResult,
  type Querier,
  type Queryable,
  type SelectHints,
} from '../../storage/index.js';
import { BlockReader, StreamingBlockWriter } from '../block/index.js';
import { isUlid } from '../meta/index.js';
import { Wal, checkpoint, type CheckpointStats } from '../wal/index.js';
import { Head } from './head.js';
import { replayWal, type WalReplayStats } from './wal-replay.js';

/** TsdbOptions configure a Tsdb. */
export interface TsdbOptions {
  /** blockDuration in ms (default 2h): the head's chunk range and the span of each block cut from it. */
  readonly blockDuration?: number;
  /** samplesPerChunk of the head (default 120). */
  readonly samplesPerChunk?: number;
  /** walSegmentSize in bytes, a multiple of 32 KiB (default 128 MiB). */
  readonly walSegmentSize?: number;
  /** fsync every commit (default false: commits are written to the OS, surviving kill -9; see WalOptions). */
  readonly fsync?: boolean;
  /**
   * thanos, when given, is written as meta.json's `thanos` section of every block cut: labels (the
   * external labels, e.g. the ruler's --label set), source (e.g. `ruler`), resolution 0.
   */
  readonly thanos?: { readonly labels: Labels; readonly source: string };
  /** retention in ms: blocks whose maxTime is that far behind the newest block's are deleted (default: keep all). */
  readonly retention?: number;
  /**
   * autoCompact (default true) starts compact() in the background after a commit that makes the
   * head span more than 1.5 × blockDuration; failures go to onCompactError and automatic runs pause
   * for compactRetryMs (default 60 s, Prometheus's compaction interval) before the next attempt.
   */
  readonly autoCompact?: boolean;
  readonly onCompactError?: (err: unknown) => void;
  readonly compactRetryMs?: number;
}

/** TsdbBlock describes a local block. */
export interface TsdbBlock {
  readonly ulid: string;
  readonly dir: string;
  readonly minTime: number;
  readonly maxTime: number;
  readonly numSamples: number;
}

/** TsdbStats are counters and gauges for a component's /metrics (names after prometheus_tsdb_*). */
export interface TsdbStats {
  readonly headSeries: number;
  /** samples applied to the head since open (WAL replay included). */
  readonly headSamplesAppended: number;
  readonly headMinTime: number;
  readonly headMaxTime: number;
  readonly blocks: number;
  readonly compactions: number;
  readonly compactionFailures: number;
  readonly blocksDeletedByRetention: number;
  readonly checkpoints: number;
  /** 1 when open() cut off a damaged WAL tail. */
  readonly walCorruptions: number;
}

/** CompactResult tells what one compact() did. */
export interface CompactResult {
  readonly blocks: readonly TsdbBlock[];
  readonly deleted: readonly string[];
  readonly checkpoint: CheckpointStats | undefined;
}

interface BlockEntry {
  readonly reader: BlockReader;
  refs: number;
  deleted: boolean;
}

const TWO_HOURS = 2 * 3600 * 1000;
const MAX_INT64 = 9223372036854775807;
const MIN_INT64 = -9223372036854775808;

/**
 * Tsdb is a writable TSDB in a data directory, as Prometheus's DB with local compaction off:
 * - a Head whose commits go to the write-ahead log in `<dir>/wal` (Prometheus's format) before
 *   they are applied; open() replays the WAL, repairing a torn tail;
 * - when the head spans more than 1.5 × blockDuration, compact() writes the oldest
 *   blockDuration-aligned range as a level-1 block `<dir>/<ULID>` (meta.json with the Thanos
 *   section when configured), adds it to the local blocks, truncates the head and checkpoints the
 *   WAL (segments before the cut replaced by `checkpoint.N` holding only what the head still
 *   has), so a restart neither loses nor duplicates samples; blocks beyond the retention are
 *   deleted;
 * - queriers merge the head and the local blocks, so recent data stays queryable after a cut.
 * Blocks are written into `<ULID>.tmp-for-creation` and renamed, so the Shipper (pkg/block) only
 * ever sees complete blocks.
 */
export class Tsdb implements Appendable, ChunkQueryable, Queryable {
  readonly dir: string;
  readonly head: Head;
  readonly wal: Wal;
  /** replay tells what open() loaded from the WAL (and any damage it cut off). */
  readonly replay: WalReplayStats;
  readonly #opts: TsdbOptions;
  readonly #blockDuration: number;
  #blocks: BlockEntry[];
  #compacting: Promise<CompactResult> | undefined;
  #again: Promise<CompactResult> | undefined;
  #autoPausedUntil = 0;
  #compactions = 0;
  #compactionFailures = 0;
  #retentionDeleted = 0;
  #checkpoints = 0;
  #closed = false;

  private constructor(dir: string, head: Head, wal: Wal, replay: WalReplayStats, blocks: BlockEntry[], opts: TsdbOptions) {
    this.dir = dir;
    this.head = head;
    this.wal = wal;
    this.replay = replay;
    this.#blocks = blocks;
    this.#opts = opts;
    this.#blockDuration = opts.blockDuration ?? TWO_HOURS;
  }

  /**
   * open loads the blocks of dir (removing unfinished `*.tmp-for-creation` / `*.tmp-for-deletion`
   * directories), replays `<dir>/wal` into a new head that accepts nothing before the newest
   * block's maxTime, and starts a new WAL segment.
   */
  static async open(dir: string, opts: TsdbOptions = {}): Promise<Tsdb> {
    const blockDuration = opts.blockDuration ?? TWO_HOURS;
    if (!(blockDuration > 0)) throw new TesseraError('TESSERA_TSDB_INVALID_OPTION', `open TSDB ${dir}: block duration ${blockDuration} is not positive`);
    await mkdir(dir, { recursive: true });
    const entries = await readdir(dir, { withFileTypes: true });
    const blocks: BlockEntry[] = [];
    try {
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        if (e.name.endsWith('.tmp-for-creation') || e.name.endsWith('.tmp-for-deletion')) {
          await rm(join(dir, e.name), { recursive: true, force: true });
        } else if (isUlid(e.name)) {
          blocks.push({ reader: await BlockReader.open(join(dir, e.name)), refs: 0, deleted: false });
        }
      }
    } catch (err) {
      for (const b of blocks) b.reader.close();
      throw err;
    }
    blocks.sort((a, b) => a.reader.minTime - b.reader.minTime || compareStrings(a.reader.ulid, b.reader.ulid));
    const walDir = join(dir, 'wal');
    // A checkpoint interrupted by a crash is redone at the next cut.
    for (const n of await readdir(walDir).catch(() => [] as string[])) {
      if (/^checkpoint\.\d+\.tmp$/.test(n)) await rm(join(walDir, n), { recursive: true, force: true });
    }
    let wal: Wal | undefined;
    let db: Tsdb | undefined;
    const head = new Head({
      chunkRange: blockDuration,
      ...(opts.samplesPerChunk !== undefined ? { samplesPerChunk: opts.samplesPerChunk } : {}),
      log: { log: (recs) => wal!.log(recs) },
      onCommit: () => {
        if (db !== undefined) db.#afterCommit();
      },
    });
    const newest = blocks.reduce((m, b) => Math.max(m, b.reader.maxTime), -Infinity);
    if (newest > -Infinity) head.truncate(newest);
    const replay = await replayWal(walDir, head);
    wal = await Wal.open(walDir, {
      ...(opts.walSegmentSize !== undefined ? { segmentSize: opts.walSegmentSize } : {}),
      ...(opts.fsync !== undefined ? { fsync: opts.fsync } : {}),
    });
    db = new Tsdb(dir, head, wal, replay, blocks, opts);
    return db;
  }

  /** blocks lists the local blocks, oldest first. */
  blocks(): TsdbBlock[] {
    return this.#blocks.map(({ reader: r }) => ({ ulid: r.ulid, dir: r.dir, minTime: r.minTime, maxTime: r.maxTime, numSamples: r.meta.stats.numSamples ?? 0 }));
  }

  /**
   * timeRange is [min, max] over the blocks and the head; when empty it is [MaxInt64, MinInt64]
   * as Prometheus's empty head reports (finite numbers, safe for the StoreAPI Info codec).
   */
  timeRange(): { minTime: number; maxTime: number } {
    let minTime = this.head.minTime();
    let maxTime = this.head.maxTime();
    for (const { reader: r } of this.#blocks) {
      minTime = Math.min(minTime, r.minTime);
      maxTime = Math.max(maxTime, r.maxTime - 1);
    }
    if (minTime === Infinity) return { minTime: MAX_INT64, maxTime: MIN_INT64 };
    return { minTime, maxTime };
  }

  /** stats returns the current counters (cheap; for a metrics collector). */
  stats(): TsdbStats {
    const h = this.head;
    return {
      headSeries: h.numSeries,
      headSamplesAppended: h.numSamples,
      headMinTime: h.minTime(),
      headMaxTime: h.maxTime(),
      blocks: this.#blocks.length,
      compactions: this.#compactions,
      compactionFailures: this.#compactionFailures,
      blocksDeletedByRetention: this.#retentionDeleted,
      checkpoints: this.#checkpoints,
      walCorruptions: this.replay.damage === undefined ? 0 : 1,
    };
  }

  appender(): Appender {
    if (this.#closed) throw new TesseraError('TESSERA_TSDB_CLOSED', `append to TSDB ${this.dir}: closed`);
    return this.head.appender();
  }

  /** compactable tells whether the head spans more than 1.5 × blockDuration (Prometheus's rule). */
  compactable(): boolean {
    const h = this.head;
    return h.minTime() !== Infinity && h.maxTime() - h.minTime() > (this.#blockDuration / 2) * 3;
  }

  #afterCommit(): void {
    if (this.#opts.autoCompact === false || this.#again !== undefined || this.#closed || !this.compactable()) return;
    if (this.#autoPausedUntil > Date.now()) return;
    this.compact().catch((err: unknown) => {
      this.#autoPausedUntil = Date.now() + (this.#opts.compactRetryMs ?? 60_000);
      this.#opts.onCompactError?.(err);
    });
  }

  /**
   * compact cuts blocks while the head is compactable, then checkpoints the WAL and applies the
   * retention. A call while a run is in progress schedules one more run after it (calls share it).
   * Before cutting a range it waits until no open appender holds a sample inside it (see
   * Head.waitForAppenders): do not await compact() while holding such an appender.
   */
  compact(): Promise<CompactResult> {
    if (this.#compacting !== undefined) {
      this.#again ??= this.#compacting
        .catch(() => undefined)
        .then(() => {
          this.#again = undefined;
          return this.compact();
        });
      return this.#again;
    }
    const run = this.#compact()
      .then(
        (r) => {
          this.#compactions++;
          return r;
        },
        (err: unknown) => {
          this.#compactionFailures++;
          throw err;
        },
      )
      .finally(() => {
        this.#compacting = undefined;
      });
    this.#compacting = run;
    return run;
  }

  async #compact(): Promise<CompactResult> {
    const written: TsdbBlock[] = [];
    if (this.#closed) return { blocks: written, deleted: [], checkpoint: undefined };
    let cut = -Infinity;
    while (this.compactable()) {
      const mint = this.head.minTime();
      const start = Math.floor(mint / this.#blockDuration) * this.#blockDuration;
      const maxt = start + this.#blockDuration;
      // No append may take a sample before maxt from now on; samples appenders already hold there
      // are waited for (Prometheus's WaitForAppendersOverlapping), so a sample appended before the
      // cut and committed after it lands in this block instead of being dropped.
      this.head.raiseMinValidTime(maxt);
      if (this.#closed) break;
      if (this.head.hasAppendersBefore(maxt)) {
        await this.head.waitForAppenders(maxt);
        // Their commits may have moved the head's minimum time: compute the range again.
        continue;
      }
      const series = this.head.seriesInRange(mint, maxt);
      if (series.length > 0) written.push(await this.#writeBlock(series, mint, maxt));
      this.head.truncate(maxt);
      if (maxt > cut) cut = maxt;
    }
    let cp: CheckpointStats | undefined;
    if (cut > -Infinity) {
      const cur = await this.wal.nextSegment();
      cp = await checkpoint(this.wal.dir, cur - 1, (ref) => this.head.series(ref) !== undefined, cut);
      this.#checkpoints++;
    }
    const deleted = await this.#applyRetention();
    this.#retentionDeleted += deleted.length;
    return { blocks: written, deleted, checkpoint: cp };
  }

  async #writeBlock(series: ReturnType<Head['seriesInRange']>, mint: number, maxt: number): Promise<TsdbBlock> {
    const th = this.#opts.thanos;
    const w = await StreamingBlockWriter.create(this.dir, {
      minTime: mint,
      maxTime: maxt,
      ...(th !== undefined ? { thanos: { labels: th.labels.toRecord(), downsample: { resolution: 0 }, source: th.source, index_stats: {} } } : {}),
    });
    try {
      for (const s of series) await w.addSeries(s.labels, s.chunks);
      const done = await w.flush();
      const reader = await BlockReader.open(done.dir);
      this.#blocks = [...this.#blocks, { reader, refs: 0, deleted: false }];
      return { ulid: done.ulid, dir: done.dir, minTime: reader.minTime, maxTime: reader.maxTime, numSamples: reader.meta.stats.numSamples ?? 0 };
    } catch (err) {
      await w.abort().catch(() => undefined);
      throw err;
    }
  }

  async #applyRetention(): Promise<string[]> {
    const retention = this.#opts.retention;
    if (retention === undefined || retention <= 0 || this.#blocks.length < 2) return [];
    const newest = this.#blocks.reduce((m, b) => Math.max(m, b.reader.maxTime), -Infinity);
    const drop = this.#blocks.filter((b) => b.reader.maxTime < newest && newest - b.reader.maxTime >= retention);
    if (drop.length === 0) return [];
    this.#blocks = this.#blocks.filter((b) => !drop.includes(b));
    const out: string[] = [];
    for (const b of drop) {
      b.deleted = true;
      const tmp = `${b.reader.dir}.tmp-for-deletion`;
      await rename(b.reader.dir, tmp);
      if (b.refs === 0) b.reader.close();
      await rm(tmp, { recursive: true, force: true });
      out.push(b.reader.ulid);
    }
    return out;
  }

  #acquire(mint: number, maxt: number): BlockEntry[] {
    const used = this.#blocks.filter((b) => b.reader.minTime <= maxt && b.reader.maxTime > mint);
    for (const b of used) b.refs++;
    return used;
  }

  #release(used: readonly BlockEntry[]): void {
    for (const b of used) {
      b.refs--;
      if (b.deleted && b.refs === 0) b.reader.close();
    }
  }

  async chunkQuerier(mint: number, maxt: number): Promise<ChunkQuerier> {
    const used = this.#acquire(mint, maxt);
    const qs = [...(await Promise.all(used.map((b) => b.reader.chunkQuerier(mint, maxt)))), await this.head.chunkQuerier(mint, maxt)];
    const labels = new UnionLabels(qs, () => this.#release(used));
    return {
      select: async (_sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions) =>
        mergeChunkSeriesSets(await Promise.all(qs.map((q) => q.select(true, hints, matchers, opts)))),
      labelNames: (m, h, o) => labels.labelNames(m, h, o),
      labelValues: (n, m, h, o) => labels.labelValues(n, m, h, o),
      close: () => labels.close(),
    };
  }

  async querier(mint: number, maxt: number): Promise<Querier> {
    const used = this.#acquire(mint, maxt);
    const qs = [...(await Promise.all(used.map((b) => b.reader.querier(mint, maxt)))), await this.head.querier(mint, maxt)];
    const labels = new UnionLabels(qs, () => this.#release(used));
    return {
      select: async (_sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions) =>
        mergeSeriesSets(await Promise.all(qs.map((q) => q.select(true, hints, matchers, opts)))),
      labelNames: (m, h, o) => labels.labelNames(m, h, o),
      labelValues: (n, m, h, o) => labels.labelValues(n, m, h, o),
      close: () => labels.close(),
    };
  }

  /** close waits for running commits and compaction, closes the WAL and the blocks. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A compaction waiting for open appenders gives up (cuts nothing); they can no longer commit.
    this.head.stopWaiting();
    await this.head.waitForCommits();
    await this.#again?.catch(() => undefined);
    await this.#compacting?.catch(() => undefined);
    await this.wal.close();
    for (const b of this.#blocks) if (b.refs === 0) b.reader.close();
  }
}

/** UnionLabels answers label lookups over several queriers (sorted union) and closes them once. */
class UnionLabels {
  readonly #qs: readonly LabelQuerier[];
  readonly #onClose: () => void;
  #closed = false;

  constructor(qs: readonly LabelQuerier[], onClose: () => void) {
    this.#qs = qs;
    this.#onClose = onClose;
  }

  async labelNames(matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    return mergeLabelResults(await Promise.all(this.#qs.map((q) => q.labelNames(matchers, hints, opts))), hints);
  }

  async labelValues(name: string, matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    return mergeLabelResults(await Promise.all(this.#qs.map((q) => q.labelValues(name, matchers, hints, opts))), hints);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await Promise.all(this.#qs.map((q) => q.close()));
    } finally {
      this.#onClose();
    }
  }
}

