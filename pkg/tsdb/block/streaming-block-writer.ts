import { closeSync, openSync, readSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Encoding, type ChunkMeta } from '../../chunkenc/index.js';
import { Decbuf, Encbuf } from '../../encoding/index.js';
import { compareStrings, Labels } from '../../labels/index.js';
import type { ChunkSeriesSet } from '../../storage/index.js';
import type { ChunkSegmentWriter } from '../chunks/index.js';
import { FileByteSink, StreamingIndexWriter, type IndexChunkMeta } from '../index/index.js';
import type { BlockDesc, ThanosMeta } from '../meta/index.js';
import { BlockError } from './block-error.js';
import { finishBlock } from './finish-block.js';
import { startBlock } from './start-block.js';
import type { WrittenBlock } from './block-writer.js';

/** StreamingBlockWriterOptions configures a StreamingBlockWriter. */
export interface StreamingBlockWriterOptions {
  /** ulid of the new block; default a fresh one. */
  readonly ulid?: string;
  /** segmentSize is the maximum chunk segment file size (default 512 MiB). */
  readonly segmentSize?: number;
  /** minTime/maxTime set the block range (default: first chunk's minTime, last chunk's maxTime + 1). */
  readonly minTime?: number;
  readonly maxTime?: number;
  /** compaction level (default 1), sources (default [ulid]) and parents (default none). */
  readonly level?: number;
  readonly sources?: readonly string[];
  readonly parents?: readonly BlockDesc[];
  /** thanos is written as meta.json's "thanos" section; segment_files and index_stats are filled in. */
  readonly thanos?: ThanosMeta;
  /**
   * symbols, when given, must contain every label name and value of the series to be written (in
   * any order, duplicates allowed; extra symbols are kept, as Prometheus's compactor keeps the
   * union of its inputs' symbol tables). Series entries then go straight into the index. Without
   * it, series are spooled to a temporary file and their symbols collected, and the index is
   * written at flush.
   */
  readonly symbols?: Iterable<string>;
  /** postingsBatchRefs bounds the postings held in memory while the index is finished (see StreamingIndexWriter). */
  readonly postingsBatchRefs?: number;
}

/** StreamedChunkSeries is one input series: labels and its chunks in time order, sync or async. */
export interface StreamedChunkSeries {
  labels(): Labels;
  chunks(): Iterable<ChunkMeta> | AsyncIterable<ChunkMeta>;
}

const SPOOL_FILENAME = 'series.spool';

/**
 * StreamingBlockWriter writes one TSDB block from series that arrive in label order (blocks.md
 * §7), with memory bounded by one series plus the symbol table: each series' chunks are written to
 * the chunk segments as it arrives (any encoding: XOR, histogram, float histogram, Thanos
 * aggregate 0xFF), its index entry either straight into the index (when the symbols are known up
 * front) or to a spool file (labels as ids of the symbols seen so far) that is replayed into the
 * index at flush; postings are rebuilt from
 * the written series section (StreamingIndexWriter). Everything happens inside
 * `<ulid>.tmp-for-creation`, renamed to `<ulid>` at the end. For the same input, chunks and index
 * are byte-identical to BlockWriter's.
 *
 * A series' chunks must be ordered by time and must not overlap (merge overlapping inputs first);
 * a series without chunks is skipped.
 */
export class StreamingBlockWriter {
  readonly ulid: string;
  readonly #parent: string;
  readonly #tmp: string;
  readonly #opts: StreamingBlockWriterOptions;
  readonly #chunks: ChunkSegmentWriter;
  #index: StreamingIndexWriter | undefined;
  #spool: FileByteSink | undefined;
  readonly #spoolBuf = new Encbuf(1 << 12);
  /** Spool mode: every symbol seen, by spool id (the order of first use), and the reverse map. */
  readonly #symbolIds: Map<string, number> | undefined;
  readonly #symbolList: string[] = [];
  #last: Labels | undefined;
  #minT = Infinity;
  #maxT = -Infinity;
  #numSeries = 0;
  #numSamples = 0;
  #numHistogramSamples = 0;
  #numChunks = 0;
  #done = false;

  private constructor(parent: string, ulid: string, tmp: string, chunks: ChunkSegmentWriter, opts: StreamingBlockWriterOptions) {
    this.#parent = parent;
    this.ulid = ulid;
    this.#tmp = tmp;
    this.#chunks = chunks;
    this.#opts = opts;
    const postings = opts.postingsBatchRefs === undefined ? {} : { postingsBatchRefs: opts.postingsBatchRefs };
    if (opts.symbols !== undefined) {
      const syms = new Set<string>(opts.symbols);
      syms.add('');
      this.#index = StreamingIndexWriter.create(join(tmp, 'index'), postings);
      for (const s of [...syms].sort(compareStrings)) this.#index.addSymbol(s);
    } else {
      this.#symbolIds = new Map([['', 0]]);
      this.#symbolList.push('');
      this.#spool = FileByteSink.create(join(tmp, SPOOL_FILENAME));
    }
  }

  /** create starts a block in parentDir (created if needed). */
  static async create(parentDir: string, opts: StreamingBlockWriterOptions = {}): Promise<StreamingBlockWriter> {
    const { ulid, tmp, chunks } = await startBlock(parentDir, opts);
    return new StreamingBlockWriter(parentDir, ulid, tmp, chunks, opts);
  }

  /** numSeries is the number of series written so far (series without chunks are not counted). */
  get numSeries(): number {
    return this.#numSeries;
  }

  #fail(msg: string): never {
    throw new BlockError(this.#tmp, -1, `write block ${this.ulid}: ${msg}`);
  }

  /**
   * addSeries writes one series. lset must sort after the previous series; chunks (sync or async)
   * are read to the end, then written. Chunk refs are assigned here; the caller's ChunkMeta
   * objects are not modified.
   */
  async addSeries(lset: Labels, chunks: Iterable<ChunkMeta> | AsyncIterable<ChunkMeta>): Promise<void> {
    if (this.#done) this.#fail('series added after flush');
    if (lset.isEmpty()) this.#fail('series without labels');
    if (this.#last !== undefined && Labels.compare(this.#last, lset) >= 0) this.#fail(`series ${lset.toString()} is not after ${this.#last.toString()}`);
    const list: ChunkMeta[] = [];
    let samples = 0;
    let histSamples = 0;
    const take = (c: ChunkMeta): void => {
      const prev = list[list.length - 1];
      if (c.maxTime < c.minTime || (prev !== undefined && c.minTime <= prev.maxTime)) {
        this.#fail(`chunk ${list.length} of ${lset.toString()} [${c.minTime}, ${c.maxTime}] is out of order or overlaps the previous one`);
      }
      const n = c.chunk.numSamples();
      samples += n;
      const enc = c.chunk.encoding();
      if (enc === Encoding.Histogram || enc === Encoding.FloatHistogram) histSamples += n;
      list.push({ ref: 0, minTime: c.minTime, maxTime: c.maxTime, chunk: c.chunk });
    };
    // Synchronous sources are read without a microtask per chunk.
    if (Symbol.iterator in chunks) for (const c of chunks) take(c);
    else for await (const c of chunks) take(c);
    this.#last = lset;
    if (list.length === 0) return;
    await this.#chunks.writeChunks(list);
    const metas: IndexChunkMeta[] = list.map((c) => ({ ref: c.ref, minTime: c.minTime, maxTime: c.maxTime }));
    if (this.#index !== undefined) this.#index.addSeries(lset, metas);
    else this.#spoolSeries(lset, metas);
    this.#numSeries++;
    this.#numSamples += samples;
    this.#numHistogramSamples += histSamples;
    this.#numChunks += list.length;
    if (list[0]!.minTime < this.#minT) this.#minT = list[0]!.minTime;
    if (list[list.length - 1]!.maxTime > this.#maxT) this.#maxT = list[list.length - 1]!.maxTime;
  }

  /** writeSeriesSet writes every series of a label-sorted set (a ChunkSeriesSet or a sync/async iterable). */
  async writeSeriesSet(set: ChunkSeriesSet | Iterable<StreamedChunkSeries> | AsyncIterable<StreamedChunkSeries>): Promise<void> {
    if ('next' in set && 'at' in set) {
      while (set.next()) {
        const s = set.at();
        await this.addSeries(s.labels(), s.chunks());
      }
      const err = set.err();
      if (err !== null) throw err;
      return;
    }
    for await (const s of set) await this.addSeries(s.labels(), s.chunks());
  }

  #spoolSeries(lset: Labels, metas: readonly IndexChunkMeta[]): void {
    const e = this.#spoolBuf;
    e.reset();
    e.putBE32(0);
    e.putUvarint(lset.size);
    for (let i = 0; i < lset.size; i++) {
      e.putUvarint(this.#symbolId(lset.nameAt(i)));
      e.putUvarint(this.#symbolId(lset.valueAt(i)));
    }
    e.putUvarint(metas.length);
    for (const m of metas) {
      e.putVarint(m.minTime);
      e.putVarint(m.maxTime);
      e.putUvarint(m.ref);
    }
    e.setBE32(0, e.len - 4);
    this.#spool!.write(e.get());
  }

  #symbolId(s: string): number {
    const ids = this.#symbolIds!;
    let id = ids.get(s);
    if (id === undefined) {
      id = this.#symbolList.length;
      ids.set(s, id);
      this.#symbolList.push(s);
    }
    return id;
  }

  /** Writes the index from the spool: symbols first, then every spooled series in order. */
  #indexFromSpool(): StreamingIndexWriter {
    const spoolPath = join(this.#tmp, SPOOL_FILENAME);
    this.#spool!.close();
    const index = StreamingIndexWriter.create(join(this.#tmp, 'index'), this.#opts.postingsBatchRefs === undefined ? {} : { postingsBatchRefs: this.#opts.postingsBatchRefs });
    this.#index = index;
    for (const s of [...this.#symbolList].sort(compareStrings)) index.addSymbol(s);
    this.#symbolIds!.clear();
    const strs = this.#symbolList;
    const fd = openSync(spoolPath, 'r');
    try {
      let win = new Uint8Array(1 << 20);
      let winOff = 0;
      let winLen = 0;
      const ensure = (off: number, n: number): number => {
        if (off >= winOff && off + n <= winOff + winLen) return off - winOff;
        if (n > win.length) win = new Uint8Array(n);
        winOff = off;
        winLen = 0;
        for (;;) {
          const r = readSync(fd, win, winLen, win.length - winLen, off + winLen);
          if (r === 0) break;
          winLen += r;
        }
        if (winLen < n) this.#fail(`read back series spool ${spoolPath} at ${off}: truncated`);
        return 0;
      };
      const kv: string[] = [];
      const metas: IndexChunkMeta[] = [];
      for (let off = 0, i = 0; i < this.#numSeries; i++) {
        let p = ensure(off, 4);
        const len = new DataView(win.buffer, win.byteOffset + p, 4).getUint32(0);
        p = ensure(off + 4, len);
        const d = new Decbuf(win.subarray(p, p + len), off + 4);
        kv.length = 0;
        metas.length = 0;
        const nl = d.uvarint();
        for (let j = 0; j < 2 * nl; j++) {
          const str = strs[d.uvarint()];
          if (str === undefined) this.#fail(`read back series spool ${spoolPath}: unknown symbol id`);
          kv.push(str);
        }
        const nc = d.uvarint();
        for (let j = 0; j < nc; j++) {
          const minTime = d.varint();
          const maxTime = d.varint();
          metas.push({ minTime, maxTime, ref: d.uvarint() });
        }
        if (d.err() !== null) this.#fail(`read back series spool ${spoolPath}: ${d.err()!.message}`);
        index.addSeries(Labels.fromSortedFlat([...kv]), metas);
        off += 4 + len;
      }
    } finally {
      closeSync(fd);
    }
    return index;
  }

  /** flush finishes chunks, index, tombstones and meta.json and moves the block into place. */
  async flush(): Promise<WrittenBlock> {
    if (this.#done) this.#fail('flushed twice');
    this.#done = true;
    try {
      if (this.#numSeries === 0) this.#fail('no samples');
      await this.#chunks.close();
      const index = this.#index ?? this.#indexFromSpool();
      index.close();
      if (this.#spool !== undefined) await rm(join(this.#tmp, SPOOL_FILENAME), { force: true });
      return await finishBlock({
        ulid: this.ulid,
        parent: this.#parent,
        tmp: this.#tmp,
        opts: this.#opts,
        chunks: this.#chunks,
        maxSeriesSize: index.maxSeriesSize,
        minT: this.#minT,
        maxT: this.#maxT,
        numSeries: this.#numSeries,
        numSamples: this.#numSamples,
        numHistogramSamples: this.#numHistogramSamples,
        numChunks: this.#numChunks,
      });
    } catch (err) {
      this.#index?.abort();
      this.#spool?.abort();
      await rm(this.#tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** abort discards the partial block. */
  async abort(): Promise<void> {
    this.#done = true;
    this.#index?.abort();
    this.#spool?.abort();
    await this.#chunks.close().catch(() => undefined);
    await rm(this.#tmp, { recursive: true, force: true });
  }
}
