import { DecodedFloatChunk, type Chunk, type ChunkMeta, type SampleIterator } from '../chunkenc/index.js';
import { BoundedIterator, ChunkFollowIterator, DedupIterator, firstCoveredSamples, type ChunkFollowOptions, type ReplicaChunkList } from '../dedup/index.js';
import type { Labels } from '../labels/index.js';
import type { ChunkSeries, Series } from '../storage/index.js';
import type { Aggr, AggrChunk } from '../storepb/index.js';
import { aggrChunkIterator, toChunk } from './aggr-iterator.js';
import { IteratorChunk } from './iterator-chunk.js';

/** RawRun is a run of raw chunks as dedup reads replicas (one object a run, no closures). */
class RawRun implements ReplicaChunkList {
  readonly ranges: readonly AggrChunk[];

  constructor(run: readonly AggrChunk[]) {
    this.ranges = run;
  }

  chunk(i: number): Chunk {
    return toChunk(this.ranges[i]!.raw!);
  }

  /** xor returns chunk i's data when it is XOR-encoded (StoreAPI's type 0, see toChunk). */
  xor(i: number): Uint8Array | undefined {
    const c = this.ranges[i]!.raw!;
    return c.type === 0 ? c.data : undefined;
  }
}

/** StoreSeriesView is one (possibly deduplicated) series built from StoreAPI chunks. */
export class StoreSeriesView implements Series, ChunkSeries {
  readonly #lset: Labels;
  readonly #runs: readonly (readonly AggrChunk[])[];
  readonly #aggrs: readonly Aggr[];
  readonly #mint: number;
  readonly #maxt: number;
  readonly #ctx: number;
  readonly #counter: boolean;

  /**
   * runs are sorted, non-overlapping chunk lists in dedup priority order (one replica's chunks
   * each, usually); ctx is how far beyond [mint, maxt] the replicas are read for dedup. Runs
   * without a chunk in that range take no part (the chunk-level decision: with one run left,
   * there is nothing to merge).
   */
  constructor(lset: Labels, runs: readonly (readonly AggrChunk[])[], aggrs: readonly Aggr[], mint: number, maxt: number, ctx: number, counter: boolean) {
    this.#lset = lset;
    const lo = mint - ctx;
    const hi = maxt + ctx;
    this.#runs = runs.length <= 1 ? runs : runs.filter((r) => r.some((c) => c.maxTime >= lo && c.minTime <= hi));
    this.#aggrs = aggrs;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#ctx = ctx;
    this.#counter = counter;
  }

  labels(): Labels {
    return this.#lset;
  }

  iterator(): SampleIterator {
    const runs = this.#runs;
    if (runs.length <= 1) return aggrChunkIterator(runs[0] ?? [], this.#aggrs, this.#mint, this.#maxt);
    // Replica 0's chunks straight where it covers; the dedup iterator only around its gaps.
    const follow = this.#follow();
    if (follow !== undefined) return new ChunkFollowIterator(follow);
    const lo = this.#mint - this.#ctx;
    const hi = this.#maxt + this.#ctx;
    const its = runs.map((r) => aggrChunkIterator(r, this.#aggrs, lo, hi));
    return new BoundedIterator(new DedupIterator(its, { counter: this.#counter }), this.#mint, this.#maxt);
  }

  /** #follow returns ChunkFollowIterator's options when every run has raw chunks (and there are several). */
  #follow(): ChunkFollowOptions | undefined {
    const runs = this.#runs;
    if (runs.length <= 1 || !runs.every((r) => r.every((c) => c.raw !== undefined))) return undefined;
    return {
      replicas: runs.map((r) => new RawRun(r)),
      mint: this.#mint,
      maxt: this.#maxt,
      ctx: this.#ctx,
      counter: this.#counter,
    };
  }

  /**
   * chunks returns raw chunks where the samples are one run's: a series with one run, or the
   * first run when it covers the range so that dedup yields exactly its samples (firstCovers,
   * decided from its timestamps). The engine decodes them itself and bounds them to the query
   * range. When firstCovers decoded them for its check (XOR chunks), those samples in
   * [mint, maxt] are handed over as one DecodedFloatChunk instead (valid until the next view's
   * chunks() call; its iterator() at any time), so they are decoded once.
   * Otherwise one IteratorChunk over iterator().
   */
  chunks(): ChunkMeta[] {
    const runs = this.#runs;
    let only = runs.length === 1 ? runs[0]! : runs.length === 0 ? [] : undefined;
    if (only === undefined) {
      const follow = this.#follow();
      const covered = follow === undefined ? false : firstCoveredSamples(follow);
      if (covered === true) only = runs[0]!;
      else if (covered !== false) {
        const chunk = new DecodedFloatChunk(this.#mint, this.#maxt, covered, this);
        return [{ ref: 0, minTime: this.#mint, maxTime: this.#maxt, chunk }];
      }
    }
    if (only !== undefined && only.every((c) => c.raw !== undefined)) {
      const out: ChunkMeta[] = [];
      for (const c of only) if (c.maxTime >= this.#mint && c.minTime <= this.#maxt) out.push({ ref: 0, minTime: c.minTime, maxTime: c.maxTime, chunk: toChunk(c.raw!) });
      return out;
    }
    return [{ ref: 0, minTime: this.#mint, maxTime: this.#maxt, chunk: new IteratorChunk(() => this.iterator()) }];
  }
}
