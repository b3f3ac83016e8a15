import { runLimited, type BucketReader } from '../objstore/index.js';
import type { BlockMeta } from '../tsdb/index.js';
import { isTesseraError } from '../errors/index.js';
import { BlockErrorCode } from './block-errors.js';
import type { Logger } from './logger.js';
import { nopLogger } from './logger.js';
import { DELETION_MARK_FILENAME, readDeletionMark, type DeletionMark } from './markers.js';
import { SyncState, type FilterContext, type MetaFilter } from './meta-filter.js';

/** Options of an IgnoreDeletionMarkFilter. */
export interface IgnoreDeletionMarkFilterOptions {
  readonly bucket: BucketReader;
  /** delayMs: blocks marked longer ago than this are dropped (--ignore-deletion-marks-delay, 24h). */
  readonly delayMs: number;
  /** concurrency of marker reads (default 20). */
  readonly concurrency?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
}

/**
 * IgnoreDeletionMarkFilter drops blocks whose deletion mark is older than the delay, and
 * remembers every mark seen (deletionMarks()). Marks are read only for blocks the listing showed
 * one for, or for every block when the discovery did not list block contents. An unparsable mark
 * is a partial upload: logged and ignored (the block is kept).
 */
export class IgnoreDeletionMarkFilter implements MetaFilter {
  readonly #o: IgnoreDeletionMarkFilterOptions;
  #marks = new Map<string, DeletionMark>();

  constructor(opts: IgnoreDeletionMarkFilterOptions) {
    this.#o = opts;
  }

  /** deletionMarks returns the marks found by the last filter call, by ULID. */
  deletionMarks(): ReadonlyMap<string, DeletionMark> {
    return this.#marks;
  }

  async filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void> {
    const ids = [...metas.keys()].filter((id) => ctx.hasObject(id, DELETION_MARK_FILENAME) !== false);
    const marks = new Map<string, DeletionMark>();
    const now = (this.#o.now ?? Date.now)();
    const logger = this.#o.logger ?? nopLogger;
    await runLimited(ids, this.#o.concurrency ?? 20, async (id) => {
      let mark: DeletionMark | undefined;
      try {
        mark = await readDeletionMark(this.#o.bucket, id, ctx.signal);
      } catch (err) {
        if (isTesseraError(err, BlockErrorCode.MarkerCorrupt)) {
          logger.warn('found partial deletion-mark.json; if it persists, the block needs a new mark', { block: id, err });
          return;
        }
        throw err;
      }
      if (mark === undefined) return;
      marks.set(id, mark);
      if (now - mark.deletion_time * 1000 > this.#o.delayMs && metas.delete(id)) ctx.count(SyncState.MarkedForDeletion);
    });
    this.#marks = marks;
  }
}
