import { basename, join } from 'node:path';
import type { Labels, Matcher } from '../../labels/index.js';
import type {
  CallOptions,
  ChunkQuerier,
  ChunkQueryable,
  ChunkSeries,
  ChunkSeriesSet,
  LabelHints,
  LabelResult,
  Querier,
  Queryable,
  SelectHints,
  Series,
  SeriesSet,
  Warnings,
} from '../../storage/index.js';
import { ChunkSegmentReader } from '../chunks/index.js';
import { expandPostings, FileByteSource, IndexReader, intersect, postingsForMatchers, type IndexChunkMeta, type Postings } from '../index/index.js';
import { readTombstones, type Tombstones } from '../tombstones/index.js';
import { BlockError } from './block-error.js';
import { BlockChunkSeries, BlockSeries } from './block-series.js';
import { isUlid, readBlockMeta, type BlockMeta } from '../meta/index.js';

const noWarnings: Warnings = Object.freeze([]);

/**
 * BlockReader opens one block directory (meta.json, index, chunks/, tombstones) and serves it as a
 * Queryable and ChunkQueryable. The index and the chunk segments are read on demand through
 * positional reads (open file descriptors; nothing is loaded whole), so close() must be called.
 * Open validates meta.json (version, ULID matching the directory name), the index
 * header/TOC/symbols/postings table, the segment headers and the tombstones; errors name the file and offset (BlockError, IndexCorruptError, ChunkSegmentError,
 * TombstonesError).
 */
export class BlockReader implements Queryable, ChunkQueryable {
  readonly dir: string;
  readonly meta: BlockMeta;
  readonly index: IndexReader;
  readonly chunks: ChunkSegmentReader;
  readonly tombstones: Tombstones;
  #closed = false;

  private constructor(dir: string, meta: BlockMeta, index: IndexReader, chunks: ChunkSegmentReader, tombstones: Tombstones) {
    this.dir = dir;
    this.meta = meta;
    this.index = index;
    this.chunks = chunks;
    this.tombstones = tombstones;
  }

  /** open opens the block in dir. */
  static async open(dir: string): Promise<BlockReader> {
    const meta = await readBlockMeta(dir);
    const name = basename(dir);
    if (isUlid(name) && meta.ulid !== name) {
      throw new BlockError(join(dir, 'meta.json'), -1, `validate block meta ${join(dir, 'meta.json')}: ulid ${meta.ulid} does not match directory ${name}`);
    }
    let index: IndexReader;
    const indexPath = join(dir, 'index');
    try {
      index = IndexReader.open(FileByteSource.open(indexPath));
    } catch (err) {
      if (err instanceof Error && 'code' in err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new BlockError(indexPath, -1, `open block ${dir}: index file ${indexPath} is missing`, { cause: err });
      }
      throw err;
    }
    let chunks: ChunkSegmentReader | undefined;
    try {
      chunks = await ChunkSegmentReader.openFiles(join(dir, 'chunks'));
      const tombstones = await readTombstones(dir);
      return new BlockReader(dir, meta, index, chunks, tombstones);
    } catch (err) {
      chunks?.close();
      index.close();
      throw err;
    }
  }

  /** ulid of the block. */
  get ulid(): string {
    return this.meta.ulid;
  }

  /** minTime (inclusive) and maxTime (exclusive) of the block. */
  get minTime(): number {
    return this.meta.minTime;
  }

  get maxTime(): number {
    return this.meta.maxTime;
  }

  /** querier returns a sample querier over [mint, maxt] (inclusive). */
  async querier(mint: number, maxt: number): Promise<Querier> {
    return new BlockQuerier(this, mint, maxt);
  }

  /** chunkQuerier returns a chunk querier over [mint, maxt] (inclusive). */
  async chunkQuerier(mint: number, maxt: number): Promise<ChunkQuerier> {
    return new BlockChunkQuerier(this, mint, maxt);
  }

  /** close releases the index and chunk segment files; queriers must not be used afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.index.close();
    this.chunks.close();
  }
}

/** Shared label lookups of both querier kinds. */
class BlockLabelQuerier {
  protected readonly block: BlockReader;
  protected readonly mint: number;
  protected readonly maxt: number;

  constructor(block: BlockReader, mint: number, maxt: number) {
    this.block = block;
    this.mint = mint;
    this.maxt = maxt;
  }

  async labelValues(name: string, matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    opts?.signal?.throwIfAborted();
    const ix = this.block.index;
    const values = ix.labelValues(name);
    if (matchers.length === 0) return limitResult(values, hints);
    const refs = expand(postingsForMatchers(ix, matchers));
    const out: string[] = [];
    if (values.length <= refs.length) {
      // Few values: keep those whose postings intersect the selection.
      for (const v of values) {
        const p = intersect(ix.postings(name, v), listOf(refs));
        if (p.next()) out.push(v);
        else if (p.err() !== null) throw p.err();
      }
    } else {
      const seen = new Set<string>();
      for (const ref of refs) {
        const v = ix.series(ref).get(name);
        if (v !== '') seen.add(v);
      }
      for (const v of values) if (seen.has(v)) out.push(v);
    }
    return limitResult(out, hints);
  }

  async labelNames(matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    opts?.signal?.throwIfAborted();
    const ix = this.block.index;
    if (matchers.length === 0) return limitResult(ix.labelNames(), hints);
    const seen = new Set<string>();
    for (const ref of expand(postingsForMatchers(ix, matchers))) ix.series(ref).forEach((n) => seen.add(n));
    return limitResult(
      ix.labelNames().filter((n) => seen.has(n)),
      hints,
    );
  }

  async close(): Promise<void> {}

  protected range(hints: SelectHints | undefined): [number, number] {
    if (hints === undefined) return [this.mint, this.maxt];
    return [Math.max(this.mint, hints.start), Math.min(this.maxt, hints.end)];
  }
}

function expand(p: Postings): number[] {
  return expandPostings(p);
}

function listOf(refs: number[]): Postings {
  let i = -1;
  return {
    next: () => ++i < refs.length,
    seek(v: number): boolean {
      if (i < 0) i = 0;
      while (i < refs.length && refs[i]! < v) i++;
      return i < refs.length;
    },
    at: () => refs[i]!,
    err: () => null,
  };
}

function limitResult(values: readonly string[], hints: LabelHints | undefined): LabelResult {
  const limit = hints?.limit ?? 0;
  return { values: limit > 0 && values.length > limit ? values.slice(0, limit) : values, warnings: noWarnings };
}

/**
 * Walks the postings of a selection and decodes each series entry lazily, keeping the chunk metas
 * overlapping [mint, maxt] that are not entirely deleted; series without any are skipped.
 */
class BlockSetBase<S> {
  readonly #block: BlockReader;
  readonly #p: Postings;
  protected readonly mint: number;
  protected readonly maxt: number;
  readonly #make: (lset: Labels, metas: IndexChunkMeta[], ref: number) => S;
  #cur: S | undefined;
  #err: Error | null = null;

  constructor(block: BlockReader, p: Postings, mint: number, maxt: number, make: (lset: Labels, metas: IndexChunkMeta[], ref: number) => S) {
    this.#block = block;
    this.#p = p;
    this.mint = mint;
    this.maxt = maxt;
    this.#make = make;
  }

  next(): boolean {
    if (this.#err !== null) return false;
    const ix = this.#block.index;
    const tomb = this.#block.tombstones;
    const all: IndexChunkMeta[] = [];
    try {
      while (this.#p.next()) {
        const ref = this.#p.at();
        const lset = ix.series(ref, all);
        const deleted = tomb.get(ref);
        const metas: IndexChunkMeta[] = [];
        for (const m of all) {
          if (m.maxTime < this.mint || m.minTime > this.maxt) continue;
          if (deleted.some((iv) => iv.minTime <= m.minTime && iv.maxTime >= m.maxTime)) continue;
          metas.push(m);
        }
        if (metas.length === 0) continue;
        this.#cur = this.#make(lset, metas, ref);
        return true;
      }
      this.#err = this.#p.err();
    } catch (err) {
      this.#err = err as Error;
    }
    this.#cur = undefined;
    return false;
  }

  at(): S {
    if (this.#cur === undefined) throw new RangeError('at() called without a current series');
    return this.#cur;
  }

  err(): Error | null {
    return this.#err;
  }

  warnings(): Warnings {
    return noWarnings;
  }
}

/** BlockQuerier selects series of one block as samples. Results are always sorted by labels. */
class BlockQuerier extends BlockLabelQuerier implements Querier {
  async select(_sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<SeriesSet> {
    opts?.signal?.throwIfAborted();
    const [mint, maxt] = this.range(hints);
    const b = this.block;
    return new BlockSetBase<Series>(b, postingsForMatchers(b.index, matchers), mint, maxt, (lset, metas, ref) => new BlockSeries(lset, b.chunks, metas, mint, maxt, b.tombstones.get(ref)));
  }
}

/** BlockChunkQuerier selects series of one block as encoded chunks overlapping the range. */
class BlockChunkQuerier extends BlockLabelQuerier implements ChunkQuerier {
  async select(_sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<ChunkSeriesSet> {
    opts?.signal?.throwIfAborted();
    const [mint, maxt] = this.range(hints);
    const b = this.block;
    return new BlockSetBase<ChunkSeries>(b, postingsForMatchers(b.index, matchers), mint, maxt, (lset, metas, ref) => new BlockChunkSeries(lset, b.chunks, metas, b.tombstones.get(ref)));
  }
}
