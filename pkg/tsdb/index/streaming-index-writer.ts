import { closeSync, openSync, readSync } from 'node:fs';
import { crc32c, Decbuf } from '../../encoding/index.js';
import type { Labels } from '../../labels/index.js';
import { FileByteSink } from './byte-sink.js';
import type { IndexChunkMeta, Toc } from './format.js';
import { TesseraError } from '../../errors/index.js';
import { IndexSectionsWriter, IndexWriteErrorCode } from './index-sections-writer.js';

/** StreamingIndexWriterOptions tune a StreamingIndexWriter. */
export interface StreamingIndexWriterOptions {
  /**
   * postingsBatchRefs bounds the series references held in memory while postings are written
   * (default 4 Mi): label names are processed in batches whose postings fit, one pass over the
   * series section each. A single label name with more postings forms a batch of its own.
   */
  readonly postingsBatchRefs?: number;
}

const readWindow = 1 << 20;

/**
 * StreamingIndexWriter writes an index v2 file (blocks.md §5) byte-identical to IndexWriter's, with
 * memory bounded by the symbol table and one series: series entries go to the file as they are
 * added, and at close the postings are rebuilt by reading the series section back from the file
 * (as Prometheus's index writer does), a batch of label names per pass, instead of keeping every
 * posting in memory. Per label name only a counter is kept while series are added. The postings
 * offset table is built in memory (one entry per label pair).
 *
 * Call order as for IndexWriter: addSymbol for every symbol (strictly increasing), addSeries in
 * strictly increasing label order, then close (or abort after an error).
 */
export class StreamingIndexWriter {
  readonly path: string;
  readonly #sink: FileByteSink;
  readonly #w: IndexSectionsWriter;
  readonly #batchRefs: number;
  /** Number of series carrying each label name (by name ref). */
  readonly #nameCounts = new Map<number, number>();
  readonly #countName = (nr: number): void => {
    this.#nameCounts.set(nr, (this.#nameCounts.get(nr) ?? 0) + 1);
  };

  private constructor(path: string, opts: StreamingIndexWriterOptions) {
    this.path = path;
    this.#batchRefs = Math.max(1, opts.postingsBatchRefs ?? 1 << 22);
    this.#sink = FileByteSink.create(path);
    this.#w = new IndexSectionsWriter(this.#sink, path);
  }

  /** create creates (or truncates) the index file at path. */
  static create(path: string, opts: StreamingIndexWriterOptions = {}): StreamingIndexWriter {
    return new StreamingIndexWriter(path, opts);
  }

  /** numSeries is the number of series added so far. */
  get numSeries(): number {
    return this.#w.numSeries;
  }

  /** maxSeriesSize is the largest series entry written (bytes incl. length and CRC). */
  get maxSeriesSize(): number {
    return this.#w.maxSeriesSize;
  }

  /** addSymbol adds the next symbol; symbols must be unique and in increasing byte order. */
  addSymbol(sym: string): void {
    this.#w.addSymbol(sym);
  }

  /**
   * addSeries appends a series with its chunk metas (ordered by time, non-overlapping, refs not
   * decreasing). Returns the series reference (entry offset / 16).
   */
  addSeries(lset: Labels, chunks: readonly IndexChunkMeta[]): number {
    return this.#w.addSeries(lset, chunks, this.#countName);
  }

  /** close writes postings, the postings offset table and the TOC, fsyncs and closes the file. */
  close(): Toc {
    const w = this.#w;
    const { seriesEnd, symbolsByRef } = w.startPostings();
    this.#sink.flush();

    const scan = new SeriesScanner(this.path, w.seriesStart, seriesEnd);
    try {
      // The all-postings list: every series ref, in order, streamed with a running CRC.
      w.addPostingsEntry('', '', this.#sink.pos);
      const e = w.buf;
      e.reset();
      e.putBE32(4 + 4 * w.numSeries);
      e.putBE32(w.numSeries);
      let crc = crc32c(e.get(), 0, 4);
      this.#sink.write(e.get());
      scan.forEach(null, (ref) => {
        e.reset();
        e.putBE32(ref);
        crc = crc32c(e.get(), crc);
        this.#sink.write(e.get());
      });
      e.reset();
      e.putBE32(crc);
      this.#sink.write(e.get());

      // Symbol refs are in byte order of the strings, so sorting refs sorts names and values.
      const names = [...this.#nameCounts.keys()].sort((a, b) => a - b);
      for (let i = 0; i < names.length; ) {
        const batch = new Map<number, Map<number, number[]>>();
        let refs = 0;
        do {
          batch.set(names[i]!, new Map());
          refs += this.#nameCounts.get(names[i]!)!;
          i++;
        } while (i < names.length && refs + this.#nameCounts.get(names[i]!)! <= this.#batchRefs);
        scan.forEach(batch, (ref, nr, vr) => {
          const byValue = batch.get(nr)!;
          const list = byValue.get(vr);
          if (list === undefined) byValue.set(vr, [ref]);
          else list.push(ref);
        });
        for (const [nr, byValue] of batch) {
          for (const vr of [...byValue.keys()].sort((a, b) => a - b)) {
            w.addPostingsEntry(symbolsByRef[nr]!, symbolsByRef[vr]!, w.writePostingsList(byValue.get(vr)!));
          }
          byValue.clear();
        }
      }
    } finally {
      scan.close();
    }

    return w.finish();
  }

  /** abort closes the file without finishing it (after an error); the caller removes it. */
  abort(): void {
    this.#w.markDone();
    this.#sink.abort();
  }
}

/**
 * SeriesScanner reads the series section of an index file being written, sequentially through a
 * window buffer, and reports each series ref with its label symbol refs.
 */
class SeriesScanner {
  readonly #fd: number;
  readonly #path: string;
  readonly #start: number;
  readonly #end: number;
  #win = new Uint8Array(readWindow);
  #winOff = 0;
  #winLen = 0;

  constructor(path: string, start: number, end: number) {
    this.#path = path;
    this.#fd = openSync(path, 'r');
    this.#start = start;
    this.#end = end;
  }

  /** Makes [off, off+n) available in the window (n clipped to the section end) and returns its start in the window. */
  #ensure(off: number, n: number): number {
    const want = Math.min(n, this.#end - off);
    if (off >= this.#winOff && off + want <= this.#winOff + this.#winLen) return off - this.#winOff;
    if (want > this.#win.length) this.#win = new Uint8Array(want);
    const len = Math.min(this.#win.length, this.#end - off);
    let got = 0;
    while (got < len) {
      const r = readSync(this.#fd, this.#win, got, len - got, off + got);
      if (r === 0) break;
      got += r;
    }
    this.#winOff = off;
    this.#winLen = got;
    return 0;
  }

  /**
   * forEach calls fn(ref, nameRef, valueRef) for every label of every series whose name ref is in
   * names, or fn(ref, -1, -1) once per series when names is null.
   */
  forEach(names: ReadonlyMap<number, unknown> | null, fn: (ref: number, nameRef: number, valueRef: number) => void): void {
    let off = Math.ceil(this.#start / 16) * 16;
    while (off < this.#end) {
      let p = this.#ensure(off, 10);
      let d = new Decbuf(this.#win.subarray(p, p + Math.min(10, this.#winLen - p)), off);
      const len = d.uvarint();
      const head = d.offset;
      if (d.err() !== null) throw new TesseraError(IndexWriteErrorCode, `write index ${this.#path}: read back series at ${off}: ${d.err()!.message}`);
      const ref = off / 16;
      if (names === null) {
        fn(ref, -1, -1);
      } else {
        p = this.#ensure(off, head + len);
        d = new Decbuf(this.#win.subarray(p + head, p + head + len), off + head);
        const n = d.uvarint();
        for (let i = 0; i < n; i++) {
          const nr = d.uvarint();
          const vr = d.uvarint();
          if (names.has(nr)) fn(ref, nr, vr);
        }
        if (d.err() !== null) throw new TesseraError(IndexWriteErrorCode, `write index ${this.#path}: read back series at ${off}: ${d.err()!.message}`);
      }
      off = Math.ceil((off + head + len + 4) / 16) * 16;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}
