import { setMaxListeners } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import {
  DELETION_MARK_FILENAME,
  IgnoreDeletionMarkFilter,
  LabelShardedMetaFilter,
  MetaFetcher,
  NO_COMPACT_MARK_FILENAME,
  NoCompactReason,
  TimePartitionMetaFilter,
  deleteBlock,
  downloadBlock,
  markForDeletion,
  markForNoCompact,
  markForNoDownsample,
  NO_DOWNSAMPLE_MARK_FILENAME,
  nopLogger,
  readDeletionMark,
  uploadBlock,
  type FetchResult,
  type HashFunc,
  type Logger,
  type RelabelConfig,
} from '../block/index.js';
import { RES_1D, downsampleBlock, downsampleRange, nextResolution } from '../downsample/index.js';
import { isTesseraError } from '../errors/index.js';
import { runLimited, type Bucket } from '../objstore/index.js';
import { TOMBSTONES_FILENAME, newUlid, readBlockMeta, ulidTime, writeBlockMeta, type BlockMeta } from '../tsdb/index.js';
import type { BlockMerger, MergeResult } from './block-merger.js';
import type { BucketLease } from './bucket-lease.js';
import { CompactorMetrics } from './compactor-metrics.js';
import { ConsistencyDelayMetaFilter } from './consistency-delay-filter.js';
import { DeduplicateFilter } from './deduplicate-filter.js';
import { groupBlocks, resolutionName, type CompactionGroup } from './group.js';
import { GatherNoCompactMarkFilter } from './no-compact-mark-filter.js';
import { COMPACTION_LEVELS, planCompaction, selectOverlapping } from './planner.js';
import { ReplicaLabelRemover } from './replica-label-remover.js';
import { formatIssues, verifyBlock } from './verify-block.js';

const HOUR = 3_600_000;

/** PARTIAL_UPLOAD_THRESHOLD_MS is Thanos's age after which a block without meta.json is an aborted upload (2 days). */
export const PARTIAL_UPLOAD_THRESHOLD_MS = 48 * HOUR;

/** Options of a Compactor; durations in ms. */
export interface CompactorOptions {
  readonly bucket: Bucket;
  /** dataDir holds the blocks being compacted (`<dataDir>/compact`) and the meta cache. */
  readonly dataDir: string;
  readonly merger: BlockMerger;
  /** consistencyDelayMs hides blocks younger than this, except compactor output (default 30m). */
  readonly consistencyDelayMs?: number;
  /** deleteDelayMs is how long a block marked for deletion stays in the bucket (default 48h). */
  readonly deleteDelayMs?: number;
  /** retentionMs maps a resolution in ms (0, 300000, 3600000, 86400000) to its retention; absent or 0 = forever. */
  readonly retentionMs?: ReadonlyMap<number, number>;
  /** replicaLabels are removed from block labels before grouping (replica deduplication). */
  readonly replicaLabels?: readonly string[];
  /** concurrency is the number of groups compacted at once (--compact.concurrency, default 1). */
  readonly concurrency?: number;
  /** relabel selects the blocks this compactor owns by their external labels. */
  readonly relabel?: readonly RelabelConfig[];
  /** levels are the compaction ranges (default COMPACTION_LEVELS). */
  readonly levels?: readonly number[];
  /** downsampling enables the downsampling pass (raw → 5m → 1h, and 1h → 1d unless disabled1d). */
  readonly downsampling?: boolean;
  /** disable1d keeps 1h blocks from being downsampled to 1d (for buckets a Thanos compactor also works on). */
  readonly disable1d?: boolean;
  /** downsampleConcurrency is the number of blocks downsampled at once (default 1). */
  readonly downsampleConcurrency?: number;
  /** partialUploadThresholdMs is the age after which a block without meta.json is deleted (default 48h). */
  readonly partialUploadThresholdMs?: number;
  /** metaFetchConcurrency is the number of meta.json reads at once (default 32). */
  readonly metaFetchConcurrency?: number;
  /** minTime/maxTime limit compaction to blocks within this time range (--min-time, --max-time). */
  readonly minTime?: number;
  readonly maxTime?: number;
  /** hashFunc records SHA-256 hashes of uploaded files in thanos.files (--hash-func). */
  readonly hashFunc?: HashFunc;
  /** discovery is how blocks are listed (--block-discovery-strategy, default concurrent as Thanos). */
  readonly discovery?: 'recursive' | 'concurrent';
  /** lease, when given, must be held for every write; losing it aborts the pass. */
  readonly lease?: BucketLease;
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/** PassResult counts what one compactor pass did. */
export interface PassResult {
  /** compactions is the number of new blocks uploaded. */
  compactions: number;
  /** markedForDeletion counts deletion marks written (compaction inputs, duplicates, retention). */
  markedForDeletion: number;
  /** retained counts blocks marked for deletion by retention. */
  retention: number;
  /** deleted counts blocks removed from the bucket (after the delete delay, and partial uploads). */
  deleted: number;
  /** repaired lists blocks with out-of-order chunks rewritten in order (the original is marked for deletion). */
  repaired: { block: string; into: string }[];
  /** downsampled counts downsampled blocks uploaded. */
  downsampled: number;
  /** quarantined lists blocks that got a no-compact mark in this pass, with the reason. */
  quarantined: { block: string; reason: string; details: string }[];
  /** failedGroups lists groups whose compaction hit a transient error (retried next pass). */
  failedGroups: string[];
}

/** A fault in the blocks of a plan: those blocks get a no-compact mark. */
class PlanFault extends Error {
  constructor(
    readonly blocks: readonly string[],
    readonly reason: string,
    readonly details: string,
  ) {
    super(details);
  }
}

/**
 * Compactor is Tessera's bucket compactor (Thanos's compact component without halting). One pass
 * (runOnce): sync metas (relabel selection, consistency delay, deletion marks, replica-label
 * removal, duplicates, no-compact marks); delete blocks whose deletion mark is older than the
 * delete delay; mark duplicates of already compacted data for deletion; then per group, plan
 * and compact until nothing is left to do; apply retention; delete aborted partial uploads.
 *
 * A compaction downloads its inputs into `<dataDir>/compact`, verifies them, merges them with the
 * BlockMerger, writes meta.json (group labels and resolution, source `compactor`, level, sources,
 * parents), uploads the block (chunks, index, meta.json last) and only then marks the inputs for
 * deletion; a crash at any point leaves either a partial upload (ignored, later deleted) or a
 * complete block whose inputs the duplicate filter hides. Faulty input (unreadable, out-of-order
 * chunks, unmergeable) puts a no-compact mark on the blocks involved and the other groups go on;
 * transient errors (bucket, disk) fail only that group's turn and are retried in the next pass.
 */
export class Compactor {
  readonly #o: CompactorOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #m: CompactorMetrics;
  readonly #fetcher: MetaFetcher;
  readonly #deletionMarks: IgnoreDeletionMarkFilter;
  readonly #duplicates = new DeduplicateFilter();
  readonly #noCompact: GatherNoCompactMarkFilter;
  readonly #levels: readonly number[];

  constructor(opts: CompactorOptions) {
    this.#o = opts;
    this.#logger = opts.logger ?? nopLogger;
    this.#now = opts.now ?? Date.now;
    this.#m = new CompactorMetrics(opts.registry);
    this.#levels = opts.levels ?? COMPACTION_LEVELS;
    const bucket = opts.bucket;
    this.#deletionMarks = new IgnoreDeletionMarkFilter({ bucket, delayMs: (opts.deleteDelayMs ?? 48 * HOUR) / 2, now: this.#now, logger: this.#logger });
    this.#noCompact = new GatherNoCompactMarkFilter(bucket, { logger: this.#logger });
    this.#fetcher = new MetaFetcher({
      bucket,
      concurrency: opts.metaFetchConcurrency ?? 32,
      cacheDir: join(opts.dataDir, 'meta-syncer'),
      logger: this.#logger,
      ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
      ...(opts.discovery !== undefined ? { discovery: opts.discovery } : {}),
      filters: [
        new TimePartitionMetaFilter(opts.minTime ?? Number.MIN_SAFE_INTEGER, opts.maxTime ?? Number.MAX_SAFE_INTEGER),
        new LabelShardedMetaFilter(opts.relabel ?? []),
        new ConsistencyDelayMetaFilter(opts.consistencyDelayMs ?? 30 * 60_000, this.#now),
        this.#deletionMarks,
        new ReplicaLabelRemover(opts.replicaLabels ?? []),
        this.#duplicates,
        this.#noCompact,
      ],
    });
  }

  /** metrics are the compactor's counters (for tests and the command). */
  get metrics(): CompactorMetrics {
    return this.#m;
  }

  /** runOnce runs one full pass: compaction until done, retention, cleanup. */
  async runOnce(signal?: AbortSignal): Promise<PassResult> {
    const res: PassResult = { compactions: 0, downsampled: 0, markedForDeletion: 0, retention: 0, deleted: 0, quarantined: [], failedGroups: [], repaired: [] };
    const sig = this.#o.lease !== undefined ? (signal !== undefined ? AbortSignal.any([signal, this.#o.lease.signal]) : this.#o.lease.signal) : signal;
    // Every concurrent bucket request listens on it.
    if (sig !== undefined) setMaxListeners(0, sig);
    const workDir = join(this.#o.dataDir, 'compact');
    await rm(workDir, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    const failed = new Set<string>();
    for (;;) {
      const sync = await this.#sync(sig);
      res.deleted += await this.#deleteMarked(sig);
      res.markedForDeletion += await this.#garbageCollect(sig);
      const groups = groupBlocks(sync.metas.values()).filter((g) => g.metas.length > 1 && !failed.has(g.key));
      let progressed = false;
      await runLimited(groups, this.#o.concurrency ?? 1, async (g) => {
        try {
          if (await this.#compactGroup(g, workDir, res, sig)) progressed = true;
        } catch (err) {
          sig?.throwIfAborted();
          if (!(err instanceof PlanFault)) {
            this.#m.compactionFailures.labels(resolutionName(g.resolution)).inc();
            this.#m.retries.inc();
            this.#logger.error('compact group; retrying in the next pass', { group: groupName(g), err });
            failed.add(g.key);
            res.failedGroups.push(groupName(g));
            return;
          }
          await this.#quarantine(g, err, res, sig);
          progressed = true;
        }
      });
      if (!progressed) break;
    }
    if (this.#o.downsampling === true) {
      // Up to three passes, so 5m blocks made in this pass can become 1h (and 1h 1d) ones.
      for (let i = 0; i < 3; i++) {
        const n = await this.#downsample(await this.#sync(sig), res, sig);
        res.downsampled += n;
        if (n === 0) break;
      }
    }
    const sync = await this.#sync(sig);
    res.retention = await this.#applyRetention(sync, sig);
    res.markedForDeletion += res.retention;
    res.deleted += await this.#cleanPartial(sync, sig);
    await rm(workDir, { recursive: true, force: true });
    if (res.failedGroups.length === 0) this.#m.iterations.inc();
    return res;
  }

  /**
   * cleanup (`tools bucket cleanup`, and between passes) deletes blocks marked longer ago than the
   * delete delay and aborted partial uploads, and marks blocks whose data a compacted block holds.
   */
  async cleanup(signal?: AbortSignal): Promise<{ deleted: number; markedForDeletion: number }> {
    const sync = await this.#sync(signal);
    const deleted = (await this.#deleteMarked(signal)) + (await this.#cleanPartial(sync, signal));
    return { deleted, markedForDeletion: await this.#garbageCollect(signal) };
  }

  /** downsample (`tools bucket downsample`) runs the downsampling passes once; returns the blocks written. */
  async downsample(signal?: AbortSignal): Promise<PassResult> {
    const res: PassResult = { compactions: 0, downsampled: 0, markedForDeletion: 0, retention: 0, deleted: 0, quarantined: [], failedGroups: [], repaired: [] };
    for (let i = 0; i < 3; i++) {
      const n = await this.#downsample(await this.#sync(signal), res, signal);
      res.downsampled += n;
      if (n === 0) break;
    }
    return res;
  }

  /**
   * repairBlock (`tools bucket verify --repair`) downloads a raw block and, when its only problem
   * is out-of-order chunks whose samples allow it, uploads a repaired copy and marks the original
   * for deletion. Returns the new block's ULID, or why it was not repaired.
   */
  async repairBlock(id: string, signal?: AbortSignal): Promise<{ into?: string; reason?: string }> {
    const dir = join(this.#o.dataDir, 'repair', id);
    await rm(dir, { recursive: true, force: true });
    try {
      const bdir = join(dir, id);
      const meta = await downloadBlock(this.#o.bucket, id, bdir, signal !== undefined ? { signal } : {});
      const issues = (await verifyBlock(bdir)).issues;
      if (issues.length === 0) return { reason: 'no issues' };
      if (!issues.every((i) => i.kind === 'out-of-order-chunks') || (meta.thanos?.downsample.resolution ?? 0) !== 0) {
        return { reason: `only out-of-order chunks of raw blocks are repaired: ${formatIssues(issues)}` };
      }
      const res: PassResult = { compactions: 0, downsampled: 0, markedForDeletion: 0, retention: 0, deleted: 0, quarantined: [], failedGroups: [], repaired: [] };
      try {
        await this.#repair(meta, bdir, dir, formatIssues(issues), res, signal);
      } catch (err) {
        if (err instanceof PlanFault) return { reason: err.details };
        throw err;
      }
      const into = res.repaired[0]?.into;
      return into !== undefined ? { into } : { reason: 'not repaired' };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** applyRetention (`tools bucket retention`) marks the blocks past their resolution's retention for deletion. */
  async applyRetention(signal?: AbortSignal): Promise<number> {
    return this.#applyRetention(await this.#sync(signal), signal);
  }

  async #sync(signal: AbortSignal | undefined): Promise<FetchResult> {
    const r = await this.#fetcher.fetch(signal);
    this.#m.quarantinedBlocks.set(this.#noCompact.marks().size);
    return r;
  }

  #assertLease(): void {
    this.#o.lease?.assertHeld();
  }

  async #mark(id: string, details: string, signal: AbortSignal | undefined): Promise<boolean> {
    this.#assertLease();
    const wrote = await markForDeletion(this.#o.bucket, id, { now: this.#now(), details, ...(signal !== undefined ? { signal } : {}) });
    if (wrote) this.#m.blocksMarked.labels(DELETION_MARK_FILENAME, '').inc();
    return wrote;
  }

  /** Deletes the blocks whose deletion mark is older than the delete delay. */
  async #deleteMarked(signal: AbortSignal | undefined): Promise<number> {
    const delay = this.#o.deleteDelayMs ?? 48 * HOUR;
    const now = this.#now();
    const due = [...this.#deletionMarks.deletionMarks().values()].filter((m) => now - m.deletion_time * 1000 >= delay);
    let n = 0;
    for (const m of due) {
      this.#assertLease();
      try {
        await deleteBlock(this.#o.bucket, m.id, signal);
        n++;
        this.#m.blocksCleaned.inc();
        this.#logger.info('deleted block marked for deletion', { block: m.id });
      } catch (err) {
        signal?.throwIfAborted();
        this.#m.cleanupFailures.inc();
        this.#logger.warn('delete block marked for deletion; retrying later', { block: m.id, err });
      }
    }
    return n;
  }

  /** Marks the blocks the duplicate filter hid (their data is in a compacted block) for deletion. */
  async #garbageCollect(signal: AbortSignal | undefined): Promise<number> {
    let n = 0;
    for (const id of this.#duplicates.duplicateIds()) {
      if (this.#deletionMarks.deletionMarks().has(id)) continue;
      if (await this.#mark(id, 'outdated block: its data is in a compacted block', signal)) {
        n++;
        this.#m.garbageCollected.inc();
        this.#logger.info('marked outdated block for deletion', { block: id });
      }
    }
    return n;
  }

  /** Compacts the group's next plan; false when there is nothing to do. */
  async #compactGroup(g: CompactionGroup, workDir: string, res: PassResult, signal: AbortSignal | undefined): Promise<boolean> {
    const marks = this.#noCompact.marks();
    // 1d groups get one more level, 112d (8 × 14d), so a year is a handful of blocks (algorithms.md §6).
    const levels = g.resolution === RES_1D ? [...this.#levels, 8 * 14 * 24 * HOUR] : this.#levels;
    // Blocks quarantined earlier in this pass stay excluded even if their mark is not read back yet.
    const quarantined = new Set(res.quarantined.map((q) => q.block));
    const plan = planCompaction(g.metas, levels, (id) => marks.has(id) || quarantined.has(id));
    if (plan.length === 0) return false;
    const overlapping = selectOverlapping(plan).length > 0;
    if (overlapping && g.resolution !== 0) {
      throw new PlanFault(plan.map((m) => m.ulid), NoCompactReason.DownsampleVerticalCompaction, `overlapping downsampled blocks are never vertically compacted (resolution ${resolutionName(g.resolution)})`);
    }
    const log = { group: groupName(g), plan: plan.map((m) => m.ulid).join(','), overlapping };
    this.#logger.info('compaction planned', log);
    const dir = join(workDir, g.key.replace(/[^0-9A-Za-z@_-]/g, '_'));
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    try {
      const inputDirs: string[] = [];
      for (const m of plan) {
        const bdir = join(dir, m.ulid);
        await downloadBlock(this.#o.bucket, m.ulid, bdir, signal !== undefined ? { signal } : {});
        const health = await verifyBlock(bdir);
        const bad = health.issues;
        if (bad.length > 0 && bad.every((i) => i.kind === 'out-of-order-chunks') && g.resolution === 0) {
          await this.#repair(m, bdir, dir, formatIssues(bad), res, signal);
          return true;
        }
        if (bad.length > 0) {
          const reason = bad.some((i) => i.kind === 'out-of-order-chunks') ? NoCompactReason.OutOfOrderChunks : `block-${bad[0]!.kind}`;
          throw new PlanFault([m.ulid], reason, `block ${m.ulid}: ${formatIssues(bad)}`);
        }
        inputDirs.push(bdir);
      }
      signal?.throwIfAborted();
      const ulid = newUlid(this.#now());
      let merged;
      try {
        merged = await this.#o.merger.merge({ inputDirs, outDir: dir, ulid, overlapping, ...(signal !== undefined ? { signal } : {}) });
      } catch (err) {
        if (isTesseraError(err)) throw new PlanFault(plan.map((m) => m.ulid), overlapping ? 'unmergeable-overlap' : 'unmergeable-blocks', `merge ${plan.map((m) => m.ulid).join(', ')}: ${(err as Error).message}`);
        throw err;
      }
      const inputs = plan.map((m) => m.ulid).join(', ');
      if ((merged.stats.numSamples ?? 0) === 0) {
        this.#logger.info('compaction produced no samples; marking inputs for deletion', log);
        for (const m of plan) if (await this.#mark(m.ulid, `empty: compacted into nothing with ${inputs}`, signal)) res.markedForDeletion++;
        return true;
      }
      const bdir = join(dir, ulid);
      const meta = newMeta(ulid, g, plan, merged);
      await writeBlockMeta(bdir, meta);
      await rm(join(bdir, TOMBSTONES_FILENAME), { force: true });
      this.#assertLease();
      await uploadBlock(this.#o.bucket, bdir, { labels: g.labels, source: 'compactor', now: this.#now, hashFunc: this.#o.hashFunc ?? 'none', ...(signal !== undefined ? { signal } : {}) });
      this.#m.compactions.labels(resolutionName(g.resolution)).inc();
      if (overlapping) this.#m.verticalCompactions.labels(resolutionName(g.resolution)).inc();
      res.compactions++;
      this.#logger.info('compacted and uploaded block', { ...log, block: ulid, samples: merged.stats.numSamples ?? 0, series: merged.stats.numSeries ?? 0 });
      for (const m of plan) if (await this.#mark(m.ulid, `compacted into ${ulid}`, signal)) res.markedForDeletion++;
      return true;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Repairs a block with out-of-order or overlapping chunks (its samples sorted and re-encoded),
   * uploads the result (source `compactor.repair`, same sources and labels, level + 1 so it wins
   * over the original in the duplicate filter) and marks the original for deletion. A block whose
   * samples conflict is quarantined instead.
   */
  async #repair(m: BlockMeta, bdir: string, dir: string, issues: string, res: PassResult, signal: AbortSignal | undefined): Promise<void> {
    const ulid = newUlid(this.#now());
    let merged: MergeResult;
    try {
      merged = await this.#o.merger.merge({ inputDirs: [bdir], outDir: dir, ulid, overlapping: false, repair: true, ...(signal !== undefined ? { signal } : {}) });
    } catch (err) {
      if (isTesseraError(err)) throw new PlanFault([m.ulid], NoCompactReason.OutOfOrderChunks, `block ${m.ulid}: ${issues}; not repairable: ${(err as Error).message}`);
      throw err;
    }
    const local = await readBlockMeta(bdir);
    const rdir = join(dir, ulid);
    await writeBlockMeta(rdir, {
      ulid,
      minTime: local.minTime,
      maxTime: local.maxTime,
      stats: merged.stats,
      compaction: { ...local.compaction, level: local.compaction.level + 1, sources: [...(local.compaction.sources ?? [local.ulid])], parents: [{ ulid: local.ulid, minTime: local.minTime, maxTime: local.maxTime }] },
      version: 1,
      thanos: { labels: { ...(local.thanos?.labels ?? {}) }, downsample: { resolution: local.thanos?.downsample.resolution ?? 0 }, source: 'compactor.repair', index_stats: {} },
    });
    await rm(join(rdir, TOMBSTONES_FILENAME), { force: true });
    this.#assertLease();
    await uploadBlock(this.#o.bucket, rdir, { source: 'compactor.repair', now: this.#now, hashFunc: this.#o.hashFunc ?? 'none', ...(signal !== undefined ? { signal } : {}) });
    this.#logger.warn('repaired block with out-of-order chunks', { block: m.ulid, repaired: ulid, issues });
    this.#m.repairs.inc();
    if (await this.#mark(m.ulid, `repaired into ${ulid}: ${issues}`, signal)) res.markedForDeletion++;
    res.repaired.push({ block: m.ulid, into: ulid });
  }

  async #quarantine(g: CompactionGroup, fault: PlanFault, res: PassResult, signal: AbortSignal | undefined): Promise<void> {
    this.#m.quarantined.labels(resolutionName(g.resolution), fault.reason).inc();
    this.#logger.error('quarantining faulty blocks: marked no-compact, the other groups go on', { group: groupName(g), blocks: fault.blocks.join(','), reason: fault.reason, details: fault.details });
    for (const id of fault.blocks) {
      this.#assertLease();
      const wrote = await markForNoCompact(this.#o.bucket, id, fault.reason, { now: this.#now(), details: fault.details, ...(signal !== undefined ? { signal } : {}) });
      if (wrote) this.#m.blocksMarked.labels(NO_COMPACT_MARK_FILENAME, fault.reason).inc();
      res.quarantined.push({ block: id, reason: fault.reason, details: fault.details });
    }
  }

  /**
   * One downsampling pass (algorithms.md §3.1, §6): a block is downsampled to the next resolution
   * when it spans the level's minimum range, has no no-downsample mark, and not all of its
   * sources are already in blocks of the target resolution. Inputs stay (retention removes
   * them). A block whose data cannot be downsampled gets a no-downsample mark; other failures are
   * retried in the next pass.
   */
  async #downsample(sync: FetchResult, res: PassResult, signal: AbortSignal | undefined): Promise<number> {
    const covered = new Map<number, Set<string>>();
    for (const m of sync.metas.values()) {
      const r = m.thanos?.downsample.resolution ?? 0;
      let set = covered.get(r);
      if (set === undefined) covered.set(r, (set = new Set()));
      for (const src of m.compaction.sources ?? [m.ulid]) set.add(src);
    }
    const todo: { meta: BlockMeta; to: number }[] = [];
    for (const m of [...sync.metas.values()].sort((a, b) => a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : 1))) {
      const from = m.thanos?.downsample.resolution ?? 0;
      const to = nextResolution(from);
      if (to === undefined || (to === RES_1D && this.#o.disable1d === true)) continue;
      if (m.maxTime - m.minTime < (downsampleRange(to) ?? Infinity)) continue;
      const have = covered.get(to);
      if ((m.compaction.sources ?? [m.ulid]).every((s) => have?.has(s) === true)) continue;
      if (await this.#o.bucket.exists(`${m.ulid}/${NO_DOWNSAMPLE_MARK_FILENAME}`, signal !== undefined ? { signal } : {})) continue;
      todo.push({ meta: m, to });
    }
    let n = 0;
    const workDir = join(this.#o.dataDir, 'downsample');
    await runLimited(todo, this.#o.downsampleConcurrency ?? 1, async ({ meta, to }) => {
      const dir = join(workDir, meta.ulid);
      await rm(dir, { recursive: true, force: true });
      try {
        const bdir = join(dir, meta.ulid);
        const local = await downloadBlock(this.#o.bucket, meta.ulid, bdir, signal !== undefined ? { signal } : {});
        let written;
        try {
          written = await downsampleBlock({ blockDir: bdir, outDir: join(dir, 'out'), resolution: to, ulid: newUlid(this.#now()), ...(signal !== undefined ? { signal } : {}) });
        } catch (err) {
          signal?.throwIfAborted();
          if (!isTesseraError(err)) throw err;
          this.#assertLease();
          const details = `downsample to ${resolutionName(to)}: ${(err as Error).message}`;
          this.#logger.error('cannot downsample block; marked no-downsample, the others go on', { block: meta.ulid, err });
          if (await markForNoDownsample(this.#o.bucket, meta.ulid, `downsample-failed`, { now: this.#now(), details, ...(signal !== undefined ? { signal } : {}) })) {
            this.#m.blocksMarked.labels(NO_DOWNSAMPLE_MARK_FILENAME, 'downsample-failed').inc();
          }
          res.quarantined.push({ block: meta.ulid, reason: 'downsample-failed', details });
          return;
        }
        if (written === undefined) {
          this.#logger.warn('downsampling left no data; nothing uploaded', { block: meta.ulid, resolution: resolutionName(to) });
          return;
        }
        this.#assertLease();
        await uploadBlock(this.#o.bucket, written.dir, { labels: local.thanos?.labels ?? {}, source: 'compactor', now: this.#now, hashFunc: this.#o.hashFunc ?? 'none', ...(signal !== undefined ? { signal } : {}) });
        n++;
        this.#m.downsamples.labels(resolutionName(to)).inc();
        this.#logger.info('downsampled block', { from: meta.ulid, block: written.ulid, resolution: resolutionName(to) });
      } catch (err) {
        signal?.throwIfAborted();
        this.#m.downsampleFailures.labels(resolutionName(to)).inc();
        this.#logger.error('downsample block; retrying in the next pass', { block: meta.ulid, err });
        res.failedGroups.push(`downsample ${meta.ulid}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
    return n;
  }

  /** Marks for deletion the blocks older than their resolution's retention. */
  async #applyRetention(sync: FetchResult, signal: AbortSignal | undefined): Promise<number> {
    const ret = this.#o.retentionMs;
    if (ret === undefined) return 0;
    const now = this.#now();
    let n = 0;
    for (const m of sync.metas.values()) {
      const r = ret.get(m.thanos?.downsample.resolution ?? 0) ?? 0;
      if (r <= 0 || now <= m.maxTime + r) continue;
      if (await this.#mark(m.ulid, `retention: maxTime ${new Date(m.maxTime).toISOString()} older than ${r} ms`, signal)) {
        n++;
        this.#logger.info('applied retention: marked block for deletion', { block: m.ulid, maxTime: m.maxTime, resolution: resolutionName(m.thanos?.downsample.resolution ?? 0) });
      }
    }
    return n;
  }

  /**
   * Deletes blocks without a usable meta.json: those with a deletion mark older than the delete
   * delay (an interrupted delete), and aborted uploads whose newest object is older than the
   * partial-upload threshold.
   */
  async #cleanPartial(sync: FetchResult, signal: AbortSignal | undefined): Promise<number> {
    const now = this.#now();
    const delay = this.#o.deleteDelayMs ?? 48 * HOUR;
    const threshold = this.#o.partialUploadThresholdMs ?? PARTIAL_UPLOAD_THRESHOLD_MS;
    const ro = signal !== undefined ? { signal } : {};
    let n = 0;
    for (const id of sync.partial.keys()) {
      let due = false;
      let mark;
      try {
        mark = await readDeletionMark(this.#o.bucket, id, signal);
      } catch {
        mark = undefined;
      }
      if (mark !== undefined) {
        due = now - mark.deletion_time * 1000 >= delay;
      } else {
        let newest = 0;
        for await (const name of this.#o.bucket.iter(`${id}/`, { recursive: true, ...ro })) {
          try {
            newest = Math.max(newest, (await this.#o.bucket.attributes(name, ro)).lastModified);
          } catch {
            // Gone meanwhile.
          }
        }
        if (newest === 0) newest = ulidTime(id);
        due = now - newest > threshold;
      }
      if (!due) continue;
      this.#assertLease();
      this.#m.partialDeleteAttempts.inc();
      try {
        await deleteBlock(this.#o.bucket, id, signal);
        n++;
        this.#m.blocksCleaned.inc();
        this.#logger.info('deleted partial block', { block: id, marked: mark !== undefined });
      } catch (err) {
        signal?.throwIfAborted();
        this.#m.cleanupFailures.inc();
        this.#logger.warn('delete partial block; retrying later', { block: id, err });
      }
    }
    return n;
  }
}

function groupName(g: CompactionGroup): string {
  const ls = Object.entries(g.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return `${resolutionName(g.resolution)}@{${ls}}`;
}

function newMeta(ulid: string, g: CompactionGroup, plan: readonly BlockMeta[], merged: MergeResult): BlockMeta {
  const sources = new Set<string>();
  for (const m of plan) for (const s of m.compaction.sources ?? [m.ulid]) sources.add(s);
  const indexStats: { series_max_size?: number; chunk_max_size?: number } = {};
  if (merged.seriesMaxSize !== undefined && merged.seriesMaxSize > 0) indexStats.series_max_size = merged.seriesMaxSize;
  if (merged.chunkMaxSize !== undefined && merged.chunkMaxSize > 0) indexStats.chunk_max_size = merged.chunkMaxSize;
  return {
    ulid,
    minTime: Math.min(...plan.map((m) => m.minTime)),
    maxTime: Math.max(...plan.map((m) => m.maxTime)),
    stats: merged.stats,
    compaction: {
      level: Math.max(...plan.map((m) => m.compaction.level)) + 1,
      sources: [...sources].sort(),
      parents: plan.map((m) => ({ ulid: m.ulid, minTime: m.minTime, maxTime: m.maxTime })),
    },
    version: 1,
    thanos: { labels: { ...g.labels }, downsample: { resolution: g.resolution }, source: 'compactor', index_stats: indexStats },
  };
}
