import { Encbuf } from '../../encoding/index.js';
import { TesseraError } from '../../errors/index.js';
import { compareStrings, Labels } from '../../labels/index.js';
import type { ByteSink } from './byte-sink.js';
import { SeriesEntryEncoder } from './series-entry.js';
import { IndexFormatV2, MagicIndex, MaxIndexSize, type IndexChunkMeta, type Toc } from './format.js';

/** IndexWriteErrorCode is the code of errors raised for misuse of the IndexWriter. */
export const IndexWriteErrorCode = 'TESSERA_INDEX_WRITE';

const zeros = new Uint8Array(16);

/**
 * IndexWriter writes a Prometheus TSDB index, format v2 (blocks.md §5), the way Prometheus's
 * index.Writer does: header, symbol table, series (16-byte aligned, in label order), one postings
 * list per label pair in (name, value) order preceded by the all-postings list, the postings
 * offset table and the TOC. No legacy label index sections are written (Prometheus ≥ 3.7).
 *
 * Call order: addSymbol for every label name and value (strictly increasing byte order), then
 * addSeries for every series (strictly increasing label order), then close. Postings are kept
 * in memory (one number per label of each series) until close.
 */
export class IndexWriter {
  readonly #sink: ByteSink;
  readonly #name: string;
  #stage: 'symbols' | 'series' | 'done' = 'symbols';
  readonly #symbols = new Encbuf(1 << 16);
  #symbolCount = 0;
  #lastSymbol: string | undefined;
  readonly #symbolRefs = new Map<string, number>();
  #toc: { symbols: number; series: number; labelIndices: number; labelIndicesTable: number; postings: number; postingsTable: number } = {
    symbols: 0,
    series: 0,
    labelIndices: 0,
    labelIndicesTable: 0,
    postings: 0,
    postingsTable: 0,
  };
  #lastSeries: Labels | undefined;
  readonly #buf = new Encbuf(1 << 12);
  readonly #entries = new SeriesEntryEncoder(
    (s) => this.#symbolRefs.get(s),
    (msg) => this.#fail(msg),
  );
  /** postings[nameRef] → Map(valueRef → series refs), filled as series are added. */
  readonly #postings = new Map<number, Map<number, number[]>>();
  readonly #all: number[] = [];
  #numSeries = 0;
  #maxSeriesSize = 0;

  /** name is used in error messages (usually the output path). */
  constructor(sink: ByteSink, name = '<index>') {
    this.#sink = sink;
    this.#name = name;
    const e = this.#buf;
    e.reset();
    e.putBE32(MagicIndex);
    e.putByte(IndexFormatV2);
    this.#sink.write(e.get());
  }

  #fail(msg: string): never {
    throw new TesseraError(IndexWriteErrorCode, `write index ${this.#name}: ${msg}`);
  }

  /** numSeries is the number of series added so far. */
  get numSeries(): number {
    return this.#numSeries;
  }

  /** maxSeriesSize is the largest series entry written (bytes incl. length and CRC). */
  get maxSeriesSize(): number {
    return this.#maxSeriesSize;
  }

  /** addSymbol adds the next symbol; symbols must be unique and in increasing byte order. */
  addSymbol(sym: string): void {
    if (this.#stage !== 'symbols') this.#fail(`symbol ${JSON.stringify(sym)} added after series`);
    if (this.#lastSymbol !== undefined && compareStrings(this.#lastSymbol, sym) >= 0) {
      this.#fail(`symbol ${JSON.stringify(sym)} is not greater than previous ${JSON.stringify(this.#lastSymbol)}`);
    }
    this.#symbols.putUvarintStr(sym);
    this.#symbolRefs.set(sym, this.#symbolCount++);
    this.#lastSymbol = sym;
  }

  #finishSymbols(): void {
    if (this.#stage !== 'symbols') return;
    this.#stage = 'series';
    this.#toc.symbols = this.#sink.pos;
    const e = this.#buf;
    e.reset();
    e.putBE32(4 + this.#symbols.len);
    e.putBE32(this.#symbolCount);
    e.putBytes(this.#symbols.get());
    e.putCRC32C(4);
    this.#sink.write(e.get());
    this.#toc.series = this.#sink.pos;
    this.#symbols.reset();
  }

  #pad(align: number): void {
    const r = this.#sink.pos % align;
    if (r !== 0) this.#sink.write(zeros.subarray(0, align - r));
  }

  /**
   * addSeries appends a series with its chunk metas (ordered by time, non-overlapping, refs not
   * decreasing). Returns the series reference (entry offset / 16).
   */
  addSeries(lset: Labels, chunks: readonly IndexChunkMeta[]): number {
    this.#finishSymbols();
    if (this.#stage !== 'series') this.#fail('series added after close');
    if (this.#lastSeries !== undefined && Labels.compare(this.#lastSeries, lset) >= 0) {
      this.#fail(`series ${lset.toString()} out of order after ${this.#lastSeries.toString()}`);
    }
    if (lset.isEmpty()) this.#fail('series with no labels');
    this.#pad(16);
    const off = this.#sink.pos;
    if (off >= MaxIndexSize) this.#fail(`index exceeds ${MaxIndexSize} bytes`);
    const ref = off / 16;

    const entry = this.#entries.encode(lset, chunks, (nr, vr) => {
      let byValue = this.#postings.get(nr);
      if (byValue === undefined) this.#postings.set(nr, (byValue = new Map()));
      const list = byValue.get(vr);
      if (list === undefined) byValue.set(vr, [ref]);
      else list.push(ref);
    });
    this.#sink.write(entry);
    if (entry.length > this.#maxSeriesSize) this.#maxSeriesSize = entry.length;
    this.#all.push(ref);
    this.#lastSeries = lset;
    this.#numSeries++;
    return ref;
  }

  #writePostingsList(refs: readonly number[]): number {
    const off = this.#sink.pos;
    const e = this.#buf;
    e.reset();
    e.putBE32(4 + 4 * refs.length);
    e.putBE32(refs.length);
    for (const r of refs) e.putBE32(r);
    e.putCRC32C(4);
    this.#sink.write(e.get());
    return off;
  }

  /** close writes postings, the postings offset table and the TOC, and closes the sink. */
  close(): Toc {
    this.#finishSymbols();
    if (this.#stage === 'done') this.#fail('closed twice');
    this.#stage = 'done';
    const toc = this.#toc;
    toc.labelIndices = this.#sink.pos;
    toc.postings = this.#sink.pos;
    this.#pad(4);

    const symbolsByRef: string[] = new Array<string>(this.#symbolCount);
    for (const [s, r] of this.#symbolRefs) symbolsByRef[r] = s;

    const table = new Encbuf(1 << 16);
    let entries = 0;
    const addEntry = (name: string, value: string, off: number): void => {
      table.putUvarint(2);
      table.putUvarintStr(name);
      table.putUvarintStr(value);
      table.putUvarint(off);
      entries++;
    };
    addEntry('', '', this.#writePostingsList(this.#all));
    // Symbol refs are in byte order of the strings, so sorting refs sorts names and values.
    const nameRefs = [...this.#postings.keys()].sort((a, b) => a - b);
    for (const nr of nameRefs) {
      const byValue = this.#postings.get(nr)!;
      const valueRefs = [...byValue.keys()].sort((a, b) => a - b);
      for (const vr of valueRefs) {
        addEntry(symbolsByRef[nr]!, symbolsByRef[vr]!, this.#writePostingsList(byValue.get(vr)!));
      }
    }
    this.#postings.clear();

    toc.postingsTable = this.#sink.pos;
    toc.labelIndicesTable = toc.postingsTable;
    const e = this.#buf;
    e.reset();
    e.putBE32(4 + table.len);
    e.putBE32(entries);
    e.putBytes(table.get());
    e.putCRC32C(4);
    this.#sink.write(e.get());

    e.reset();
    e.putBE64(toc.symbols);
    e.putBE64(toc.series);
    e.putBE64(toc.labelIndices);
    e.putBE64(toc.labelIndicesTable);
    e.putBE64(toc.postings);
    e.putBE64(toc.postingsTable);
    e.putCRC32C(0);
    this.#sink.write(e.get());
    if (this.#sink.pos > MaxIndexSize) this.#fail(`index exceeds ${MaxIndexSize} bytes`);
    this.#sink.close();
    return { ...toc };
  }
}
