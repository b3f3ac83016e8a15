import { BlockErrorCode, NO_COMPACT_MARK_FILENAME, readNoCompactMark, type FilterContext, type Logger, type MetaFilter, type NoCompactMark } from '../block/index.js';
import { isTesseraError } from '../errors/index.js';
import { runLimited, type BucketReader } from '../objstore/index.js';
import type { BlockMeta } from '../tsdb/index.js';

/**
 * GatherNoCompactMarkFilter reads the no-compact marks of the synced blocks and remembers them
 * (Thanos's GatherNoCompactionMarkFilter); it keeps the blocks, the planner skips them. A mark
 * that does not parse is logged and still excludes the block (someone meant to exclude it).
 */
export class GatherNoCompactMarkFilter implements MetaFilter {
  readonly #bucket: BucketReader;
  readonly #logger: Logger | undefined;
  readonly #concurrency: number;
  #marks = new Map<string, NoCompactMark>();

  constructor(bucket: BucketReader, opts: { logger?: Logger; concurrency?: number } = {}) {
    this.#bucket = bucket;
    this.#logger = opts.logger;
    this.#concurrency = opts.concurrency ?? 20;
  }

  /** marks returns the no-compact marks found by the last filter call, by ULID. */
  marks(): ReadonlyMap<string, NoCompactMark> {
    return this.#marks;
  }

  async filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void> {
    const ids = [...metas.keys()].filter((id) => ctx.hasObject(id, NO_COMPACT_MARK_FILENAME) !== false);
    const marks = new Map<string, NoCompactMark>();
    await runLimited(ids, this.#concurrency, async (id) => {
      try {
        const m = await readNoCompactMark(this.#bucket, id, ctx.signal);
        if (m !== undefined) marks.set(id, m);
      } catch (err) {
        if (!isTesseraError(err, BlockErrorCode.MarkerCorrupt)) throw err;
        this.#logger?.warn('unreadable no-compact mark; the block stays excluded from compaction', { block: id, err });
        marks.set(id, { id, version: 1, no_compact_time: 0, reason: 'unreadable-mark' });
      }
    });
    this.#marks = marks;
  }
}
