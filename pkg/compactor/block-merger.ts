import type { BlockStats } from '../tsdb/index.js';

/** MergeRequest asks a BlockMerger for one block made of the given local blocks. */
export interface MergeRequest {
  /** inputDirs are local block directories, sorted by minTime. */
  readonly inputDirs: readonly string[];
  /** outDir is the parent directory; the block is written to `<outDir>/<ulid>`. */
  readonly outDir: string;
  readonly ulid: string;
  /** overlapping is true when the inputs overlap in time (vertical compaction). */
  readonly overlapping: boolean;
  /**
   * repair rewrites one block whose series have out-of-order or overlapping chunks: each series'
   * samples are sorted and re-encoded. A timestamp with two different values cannot be repaired
   * (the merger throws a TesseraError).
   */
  readonly repair?: boolean;
  readonly signal?: AbortSignal;
}

/** MergeResult describes the written block; the compactor writes its meta.json. */
export interface MergeResult {
  /** stats of the written block; numSamples 0 means nothing was written (all inputs empty). */
  readonly stats: BlockStats;
  /** seriesMaxSize / chunkMaxSize are the largest series entry and chunk in bytes (thanos.index_stats). */
  readonly seriesMaxSize?: number;
  readonly chunkMaxSize?: number;
}

/**
 * BlockMerger is the compaction itself: it merges the series of several blocks into one new
 * block directory (index, chunks; meta.json is the compactor's job). Overlapping inputs are
 * merged with the configured merge function (vertical compaction, replica deduplication). It
 * throws a TesseraError when the input data cannot be merged; any other error is taken as
 * transient (disk, abort) and retried in the next pass.
 */
export interface BlockMerger {
  merge(req: MergeRequest): Promise<MergeResult>;
}
