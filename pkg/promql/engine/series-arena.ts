import type { FloatSampleSink } from '../../chunkenc/index.js';

/** BLOCK is the size in samples of a standard arena block (512 KiB of timestamps or of values). */
const BLOCK = 1 << 16;
/** POOL_MAX is how many standard blocks released arenas keep for later queries (64 MiB). */
const POOL_MAX = 128;
/** pool holds blocks released by finished queries, reused by the next ones. */
const pool: Float64Array[] = [];
const EMPTY = new Float64Array(0);

/**
 * SeriesArena hands out the loaders' sample arrays as exact-size views of large paired
 * timestamp/value blocks: reserve(n) returns a sink whose fts/fvs have room for n samples from
 * index fn on (a fresh pair of blocks when the current ones have not); the caller fills them, takes
 * its views and commits the end it used.
 *
 * Standard blocks come from a process-wide pool and go back to it on release(), which the engine
 * calls when a query has finished: a query's series data (tens of MB of typed arrays for a
 * dashboard query) then costs no new external memory, which V8 answers with full garbage
 * collections. No view of a released arena may be used afterwards; query results never share
 * the loaded arrays (the evaluator copies what it returns). Larger blocks (a series longer than a
 * block) are not pooled.
 */
export class SeriesArena {
  readonly #sink: FloatSampleSink = { fts: EMPTY, fvs: EMPTY, fn: 0, sts: EMPTY, sn: 0 };
  readonly #taken: Float64Array[] = [];

  /** reserve returns the sink with room for n samples from sink.fn on. */
  reserve(n: number): FloatSampleSink {
    const k = this.#sink;
    if (k.fn + n > k.fts.length) {
      k.fts = this.#block(n);
      k.fvs = this.#block(n);
      k.fn = 0;
    }
    return k;
  }

  /** commit records that the samples up to end (exclusive) of the current blocks are in use. */
  commit(end: number): void {
    this.#sink.fn = end;
  }

  /** release returns the arena's standard blocks to the pool; the arena starts empty again. */
  release(): void {
    for (const b of this.#taken) if (pool.length < POOL_MAX) pool.push(b);
    this.#taken.length = 0;
    this.#sink.fts = EMPTY;
    this.#sink.fvs = EMPTY;
    this.#sink.fn = 0;
  }

  #block(n: number): Float64Array {
    if (n > BLOCK) return new Float64Array(n);
    const b = pool.pop() ?? new Float64Array(BLOCK);
    this.#taken.push(b);
    return b;
  }
}
