import type { Labels } from '../../labels/index.js';
import type { ByteSink } from './byte-sink.js';
import type { IndexChunkMeta, Toc } from './format.js';
import { IndexSectionsWriter } from './index-sections-writer.js';

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
  readonly #w: IndexSectionsWriter;
  /** postings[nameRef] → Map(valueRef → series refs), filled as series are added. */
  readonly #postings = new Map<number, Map<number, number[]>>();
  readonly #all: number[] = [];
  readonly #addPosting = (nr: number, vr: number): void => {
    const ref = this.#w.currentRef;
    let byValue = this.#postings.get(nr);
    if (byValue === undefined) this.#postings.set(nr, (byValue = new Map()));
    const list = byValue.get(vr);
    if (list === undefined) byValue.set(vr, [ref]);
    else list.push(ref);
  };

  /** name is used in error messages (usually the output path). */
  constructor(sink: ByteSink, name = '<index>') {
    this.#w = new IndexSectionsWriter(sink, name);
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
    const ref = this.#w.addSeries(lset, chunks, this.#addPosting);
    this.#all.push(ref);
    return ref;
  }

  /** close writes postings, the postings offset table and the TOC, and closes the sink. */
  close(): Toc {
    const w = this.#w;
    const { symbolsByRef } = w.startPostings();
    w.addPostingsEntry('', '', w.writePostingsList(this.#all));
    // Symbol refs are in byte order of the strings, so sorting refs sorts names and values.
    const nameRefs = [...this.#postings.keys()].sort((a, b) => a - b);
    for (const nr of nameRefs) {
      const byValue = this.#postings.get(nr)!;
      const valueRefs = [...byValue.keys()].sort((a, b) => a - b);
      for (const vr of valueRefs) {
        w.addPostingsEntry(symbolsByRef[nr]!, symbolsByRef[vr]!, w.writePostingsList(byValue.get(vr)!));
      }
    }
    this.#postings.clear();
    return w.finish();
  }
}
