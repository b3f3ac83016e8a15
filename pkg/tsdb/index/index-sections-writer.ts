import { Encbuf } from '../../encoding/index.js';
import { TesseraError } from '../../errors/index.js';
import { compareStrings, Labels } from '../../labels/index.js';
import type { ByteSink } from './byte-sink.js';
import { IndexFormatV2, MagicIndex, MaxIndexSize, type IndexChunkMeta, type Toc } from './format.js';
import { SeriesEntryEncoder } from './series-entry.js';

/** IndexWriteErrorCode is the code of errors raised for misuse of an index writer. */
export const IndexWriteErrorCode = 'TESSERA_INDEX_WRITE';

const zeros = new Uint8Array(16);

/**
 * IndexSectionsWriter writes the parts of an index v2 file (blocks.md §5) that every index writer
 * writes the same way: the header, the symbol table, the series section (16-byte aligned entries
 * in label order), postings lists, the postings offset table and the TOC. How postings are
 * gathered is the caller's business (IndexWriter keeps them in memory, StreamingIndexWriter reads
 * the series section back).
 *
 * Order: addSymbol (strictly increasing), addSeries (strictly increasing labels), then
 * startPostings, writePostingsList/addPostingsEntry in offset-table order, then finish.
 */
export class IndexSectionsWriter {
  readonly sink: ByteSink;
  /** name is used in error messages (usually the output path). */
  readonly name: string;
  /** buf is a scratch buffer for callers writing their own postings. */
  readonly buf = new Encbuf(1 << 12);
  #stage: 'symbols' | 'series' | 'done' = 'symbols';
  readonly #symbols = new Encbuf(1 << 16);
  #symbolCount = 0;
  #lastSymbol: string | undefined;
  readonly #symbolRefs = new Map<string, number>();
  readonly #entries = new SeriesEntryEncoder(
    (s) => this.#symbolRefs.get(s),
    (msg) => this.fail(msg),
  );
  #lastSeries: Labels | undefined;
  #currentRef = 0;
  #numSeries = 0;
  #maxSeriesSize = 0;
  readonly #toc: { -readonly [K in keyof Toc]: Toc[K] } = { symbols: 0, series: 0, labelIndices: 0, labelIndicesTable: 0, postings: 0, postingsTable: 0 };
  readonly #table = new Encbuf(1 << 16);
  #tableEntries = 0;

  constructor(sink: ByteSink, name: string) {
    this.sink = sink;
    this.name = name;
    const e = this.buf;
    e.reset();
    e.putBE32(MagicIndex);
    e.putByte(IndexFormatV2);
    sink.write(e.get());
  }

  fail(msg: string): never {
    throw new TesseraError(IndexWriteErrorCode, `write index ${this.name}: ${msg}`);
  }

  get numSeries(): number {
    return this.#numSeries;
  }

  get maxSeriesSize(): number {
    return this.#maxSeriesSize;
  }

  /** currentRef is the reference of the series entry being (or last) written by addSeries. */
  get currentRef(): number {
    return this.#currentRef;
  }

  /** seriesStart is the offset of the series section (known once the first series or close came). */
  get seriesStart(): number {
    return this.#toc.series;
  }

  addSymbol(sym: string): void {
    if (this.#stage !== 'symbols') this.fail(`symbol ${JSON.stringify(sym)} added after series`);
    if (this.#lastSymbol !== undefined && compareStrings(this.#lastSymbol, sym) >= 0) {
      this.fail(`symbol ${JSON.stringify(sym)} is not greater than previous ${JSON.stringify(this.#lastSymbol)}`);
    }
    this.#symbols.putUvarintStr(sym);
    this.#symbolRefs.set(sym, this.#symbolCount++);
    this.#lastSymbol = sym;
  }

  #finishSymbols(): void {
    if (this.#stage !== 'symbols') return;
    this.#stage = 'series';
    this.#toc.symbols = this.sink.pos;
    const e = this.buf;
    e.reset();
    e.putBE32(4 + this.#symbols.len);
    e.putBE32(this.#symbolCount);
    e.putBytes(this.#symbols.get());
    e.putCRC32C(4);
    this.sink.write(e.get());
    this.#toc.series = this.sink.pos;
    this.#symbols.reset();
  }

  #pad(align: number): void {
    const r = this.sink.pos % align;
    if (r !== 0) this.sink.write(zeros.subarray(0, align - r));
  }

  /**
   * addSeries appends a series entry and returns its reference (offset / 16); onLabel receives the
   * symbol refs of each label pair while currentRef is already the new entry's reference.
   */
  addSeries(lset: Labels, chunks: readonly IndexChunkMeta[], onLabel: (nameRef: number, valueRef: number) => void): number {
    this.#finishSymbols();
    if (this.#stage !== 'series') this.fail('series added after close');
    if (this.#lastSeries !== undefined && Labels.compare(this.#lastSeries, lset) >= 0) {
      this.fail(`series ${lset.toString()} out of order after ${this.#lastSeries.toString()}`);
    }
    if (lset.isEmpty()) this.fail('series with no labels');
    this.#pad(16);
    const off = this.sink.pos;
    if (off >= MaxIndexSize) this.fail(`index exceeds ${MaxIndexSize} bytes`);
    const ref = off / 16;
    this.#currentRef = ref;
    const entry = this.#entries.encode(lset, chunks, onLabel);
    this.sink.write(entry);
    if (entry.length > this.#maxSeriesSize) this.#maxSeriesSize = entry.length;
    this.#lastSeries = lset;
    this.#numSeries++;
    return ref;
  }

  /**
   * startPostings ends the series section and returns where it ends and the symbols by ref
   * (symbol refs are in byte order of the strings, so sorting refs sorts names and values).
   */
  startPostings(): { seriesEnd: number; symbolsByRef: string[] } {
    this.#finishSymbols();
    if (this.#stage === 'done') this.fail('closed twice');
    this.#stage = 'done';
    const seriesEnd = this.sink.pos;
    this.#toc.labelIndices = seriesEnd;
    this.#toc.postings = seriesEnd;
    this.#pad(4);
    const symbolsByRef: string[] = new Array<string>(this.#symbolCount);
    for (const [s, r] of this.#symbolRefs) symbolsByRef[r] = s;
    return { seriesEnd, symbolsByRef };
  }

  /** writePostingsList writes one postings list and returns its offset. */
  writePostingsList(refs: readonly number[]): number {
    const off = this.sink.pos;
    const e = this.buf;
    e.reset();
    e.putBE32(4 + 4 * refs.length);
    e.putBE32(refs.length);
    for (const r of refs) e.putBE32(r);
    e.putCRC32C(4);
    this.sink.write(e.get());
    return off;
  }

  /** addPostingsEntry records a postings list's offset in the postings offset table. */
  addPostingsEntry(name: string, value: string, off: number): void {
    this.#table.putUvarint(2);
    this.#table.putUvarintStr(name);
    this.#table.putUvarintStr(value);
    this.#table.putUvarint(off);
    this.#tableEntries++;
  }

  /** finish writes the postings offset table and the TOC and closes the sink. */
  finish(): Toc {
    const toc = this.#toc;
    toc.postingsTable = this.sink.pos;
    toc.labelIndicesTable = toc.postingsTable;
    const e = this.buf;
    e.reset();
    e.putBE32(4 + this.#table.len);
    e.putBE32(this.#tableEntries);
    e.putBytes(this.#table.get());
    e.putCRC32C(4);
    this.sink.write(e.get());
    e.reset();
    e.putBE64(toc.symbols);
    e.putBE64(toc.series);
    e.putBE64(toc.labelIndices);
    e.putBE64(toc.labelIndicesTable);
    e.putBE64(toc.postings);
    e.putBE64(toc.postingsTable);
    e.putCRC32C(0);
    this.sink.write(e.get());
    if (this.sink.pos > MaxIndexSize) this.fail(`index exceeds ${MaxIndexSize} bytes`);
    this.sink.close();
    return { ...toc };
  }

  /** markDone refuses further writes (after an abort). */
  markDone(): void {
    this.#stage = 'done';
  }
}
