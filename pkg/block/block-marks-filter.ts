import { runLimited, type BucketReader } from '../objstore/index.js';
import type { BlockMeta } from '../tsdb/index.js';
import { isTesseraError } from '../errors/index.js';
import { BlockErrorCode } from './block-errors.js';
import { DELETION_MARK_FILENAME, NO_COMPACT_MARK_FILENAME, readDeletionMark, readNoCompactMark, type DeletionMark, type NoCompactMark } from './markers.js';
import type { FilterContext, MetaFilter } from './meta-filter.js';

/** BlockMarks are the deletion and no-compact marks of one block. */
export interface BlockMarks {
  readonly deletion?: DeletionMark;
  readonly noCompact?: NoCompactMark;
}

/**
 * BlockMarksFilter keeps every block and remembers the deletion and no-compact marks of the
 * blocks that reach it (marks()), for the block viewer. With a discovery that lists block
 * contents it reads only the marks the listing showed; otherwise it probes both files of every
 * block. A mark that does not parse (a partial upload) counts as absent.
 */
export class BlockMarksFilter implements MetaFilter {
  readonly #bucket: BucketReader;
  readonly #concurrency: number;
  #marks: ReadonlyMap<string, BlockMarks> = new Map();

  constructor(bucket: BucketReader, concurrency = 20) {
    this.#bucket = bucket;
    this.#concurrency = concurrency;
  }

  /** marks returns the marks found by the last filter call, by ULID (blocks without marks absent). */
  marks(): ReadonlyMap<string, BlockMarks> {
    return this.#marks;
  }

  async filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void> {
    const jobs: { id: string; file: string }[] = [];
    for (const id of metas.keys()) {
      for (const file of [DELETION_MARK_FILENAME, NO_COMPACT_MARK_FILENAME]) if (ctx.hasObject(id, file) !== false) jobs.push({ id, file });
    }
    const found = new Map<string, { deletion?: DeletionMark; noCompact?: NoCompactMark }>();
    await runLimited(jobs, this.#concurrency, async ({ id, file }) => {
      let mark: DeletionMark | NoCompactMark | undefined;
      try {
        mark = file === DELETION_MARK_FILENAME ? await readDeletionMark(this.#bucket, id, ctx.signal) : await readNoCompactMark(this.#bucket, id, ctx.signal);
      } catch (err) {
        if (isTesseraError(err, BlockErrorCode.MarkerCorrupt)) return;
        throw err;
      }
      if (mark === undefined) return;
      const m = found.get(id) ?? {};
      if (file === DELETION_MARK_FILENAME) m.deletion = mark as DeletionMark;
      else m.noCompact = mark as NoCompactMark;
      found.set(id, m);
    });
    this.#marks = found;
  }
}
