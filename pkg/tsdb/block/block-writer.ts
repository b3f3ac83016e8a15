import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkCutter, Encoding, type ChunkCutterOptions, type ChunkMeta } from '../../chunkenc/index.js';
import { compareStrings, Labels } from '../../labels/index.js';
import type { ChunkSegmentWriter } from '../chunks/index.js';
import { FileByteSink, IndexWriter, type IndexChunkMeta } from '../index/index.js';
import type { BlockMeta, ThanosMeta } from '../meta/index.js';
import { BlockError } from './block-error.js';
import { finishBlock } from './finish-block.js';
import { startBlock } from './start-block.js';

/** BlockWriterOptions configures a BlockWriter. */
export interface BlockWriterOptions {
  /** ulid of the new block; default a fresh one. */
  readonly ulid?: string;
  /** Chunk cutting rules for addSeries (default: Prometheus 3.x head, 120 samples, 2h windows). */
  readonly cutter?: ChunkCutterOptions;
  /** segmentSize is the maximum chunk segment file size (default 512 MiB). */
  readonly segmentSize?: number;
  /** minTime/maxTime override the block range (default: first sample, last sample + 1). */
  readonly minTime?: number;
  readonly maxTime?: number;
  /** compaction level (default 1) and sources (default [ulid]). */
  readonly level?: number;
  readonly sources?: readonly string[];
  /**
   * thanos is written as meta.json's "thanos" section when given; segment_files and index_stats
   * are filled in from what was written.
   */
  readonly thanos?: ThanosMeta;
}

/** WrittenBlock describes a block written by BlockWriter.flush. */
export interface WrittenBlock {
  readonly ulid: string;
  readonly dir: string;
  readonly meta: BlockMeta;
}

interface PendingSeries {
  readonly lset: Labels;
  readonly chunks: IndexChunkMeta[];
}

/**
 * BlockWriter writes one TSDB block the way Prometheus's compactor does (blocks.md §7): chunk
 * segments first, then the index, tombstones and meta.json, all inside `<ulid>.tmp-for-creation`,
 * which is renamed to `<ulid>` at the end.
 *
 * Series must be added in strictly increasing label order, each once, either as samples (cut into
 * XOR chunks by ChunkCutter) or as already encoded chunks (ordered, non-overlapping). Chunks are
 * written as series arrive; labels and chunk metas are kept in memory until flush writes the index.
 */
export class BlockWriter {
  readonly ulid: string;
  readonly #parent: string;
  readonly #tmp: string;
  readonly #opts: BlockWriterOptions;
  readonly #chunks: ChunkSegmentWriter;
  readonly #series: PendingSeries[] = [];
  #last: Labels | undefined;
  #minT = Infinity;
  #maxT = -Infinity;
  #numSamples = 0;
  #numHistogramSamples = 0;
  #numChunks = 0;
  #done = false;

  private constructor(parent: string, ulid: string, tmp: string, chunks: ChunkSegmentWriter, opts: BlockWriterOptions) {
    this.#parent = parent;
    this.ulid = ulid;
    this.#tmp = tmp;
    this.#chunks = chunks;
    this.#opts = opts;
  }

  /** create starts a block in parentDir (created if needed). */
  static async create(parentDir: string, opts: BlockWriterOptions = {}): Promise<BlockWriter> {
    const { ulid, tmp, chunks } = await startBlock(parentDir, opts);
    return new BlockWriter(parentDir, ulid, tmp, chunks, opts);
  }

  #checkOrder(lset: Labels): void {
    if (this.#done) throw new BlockError(this.#tmp, -1, `write block ${this.ulid}: series added after flush`);
    if (lset.isEmpty()) throw new BlockError(this.#tmp, -1, `write block ${this.ulid}: series without labels`);
    if (this.#last !== undefined && Labels.compare(this.#last, lset) >= 0) {
      throw new BlockError(this.#tmp, -1, `write block ${this.ulid}: series ${lset.toString()} is not after ${this.#last.toString()}`);
    }
  }

  /**
   * addSeries adds a float series from its samples (timestamps strictly increasing). Samples are
   * cut into XOR chunks by ChunkCutter; out-of-order samples are rejected with an error.
   */
  async addSeries(lset: Labels, ts: ArrayLike<number>, vs: ArrayLike<number>): Promise<void> {
    this.#checkOrder(lset);
    if (ts.length !== vs.length) throw new RangeError(`addSeries ${lset.toString()}: ${ts.length} timestamps but ${vs.length} values`);
    if (ts.length === 0) return;
    const cutter = new ChunkCutter(this.#opts.cutter ?? {});
    for (let i = 0; i < ts.length; i++) {
      if (!cutter.append(ts[i]!, vs[i]!)) {
        throw new BlockError(this.#tmp, -1, `write block ${this.ulid}: sample ${i} of ${lset.toString()} at ${ts[i]} is not after the previous one`);
      }
    }
    await this.#add(lset, cutter.finish(), ts.length);
  }

  /**
   * addChunkSeries adds a series from encoded chunks ordered by time without overlap. Their refs
   * are assigned here.
   */
  async addChunkSeries(lset: Labels, chunks: readonly ChunkMeta[]): Promise<void> {
    this.#checkOrder(lset);
    let n = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (c.maxTime < c.minTime || (i > 0 && c.minTime <= chunks[i - 1]!.maxTime)) {
        throw new BlockError(this.#tmp, -1, `write block ${this.ulid}: chunk ${i} of ${lset.toString()} [${c.minTime}, ${c.maxTime}] is out of order or overlaps`);
      }
      n += c.chunk.numSamples();
      const enc = c.chunk.encoding();
      if (enc === Encoding.Histogram || enc === Encoding.FloatHistogram) this.#numHistogramSamples += c.chunk.numSamples();
    }
    if (chunks.length === 0) return;
    await this.#add(lset, chunks.map((c) => ({ ...c })), n);
  }

  async #add(lset: Labels, chunks: ChunkMeta[], samples: number): Promise<void> {
    await this.#chunks.writeChunks(chunks);
    this.#series.push({ lset, chunks: chunks.map((c) => ({ ref: c.ref, minTime: c.minTime, maxTime: c.maxTime })) });
    this.#last = lset;
    this.#numSamples += samples;
    this.#numChunks += chunks.length;
    const first = chunks[0]!;
    const last = chunks[chunks.length - 1]!;
    if (first.minTime < this.#minT) this.#minT = first.minTime;
    if (last.maxTime > this.#maxT) this.#maxT = last.maxTime;
  }

  /** flush writes index, tombstones and meta.json and moves the block into place. */
  async flush(): Promise<WrittenBlock> {
    if (this.#done) throw new BlockError(this.#tmp, -1, `write block ${this.ulid}: flushed twice`);
    this.#done = true;
    try {
      if (this.#series.length === 0) throw new BlockError(this.#tmp, -1, `write block ${this.ulid}: no samples`);
      await this.#chunks.close();

      const syms = new Set<string>(['']);
      for (const s of this.#series) s.lset.forEach((n, v) => (syms.add(n), syms.add(v)));
      const indexPath = join(this.#tmp, 'index');
      let maxSeriesSize = 0;
      const sink = FileByteSink.create(indexPath);
      try {
        const w = new IndexWriter(sink, indexPath);
        for (const s of [...syms].sort(compareStrings)) w.addSymbol(s);
        for (const s of this.#series) w.addSeries(s.lset, s.chunks);
        w.close();
        maxSeriesSize = w.maxSeriesSize;
      } catch (err) {
        sink.abort();
        throw err;
      }
      const written = await finishBlock({
        ulid: this.ulid,
        parent: this.#parent,
        tmp: this.#tmp,
        opts: this.#opts,
        chunks: this.#chunks,
        maxSeriesSize,
        minT: this.#minT,
        maxT: this.#maxT,
        numSeries: this.#series.length,
        numSamples: this.#numSamples,
        numHistogramSamples: this.#numHistogramSamples,
        numChunks: this.#numChunks,
      });
      this.#series.length = 0;
      return written;
    } catch (err) {
      await rm(this.#tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** abort discards the partial block. */
  async abort(): Promise<void> {
    this.#done = true;
    await this.#chunks.close().catch(() => undefined);
    await rm(this.#tmp, { recursive: true, force: true });
  }
}
