/** Constants and the TOC of the Prometheus TSDB index format (spec: blocks.md §5). */

/** MagicIndex is the BE32 at offset 0 of every index file. */
export const MagicIndex = 0xbaaad700;
/** IndexFormatV2 is the version this package writes. */
export const IndexFormatV2 = 2;
/** HeaderLen is magic + version byte. */
export const HeaderLen = 5;
/** TocLen is six BE64 offsets and a CRC32. */
export const TocLen = 6 * 8 + 4;
/** SymbolSampleRate: the reader keeps every Nth symbol offset for lookups by ref. */
export const SymbolSampleRate = 32;
/** MaxIndexSize is 16 × 2^32 bytes: series refs are BE32 offset / 16. */
export const MaxIndexSize = 16 * 2 ** 32;

/** Toc holds the absolute offsets of the index sections; 0 means absent. */
export interface Toc {
  readonly symbols: number;
  readonly series: number;
  readonly labelIndices: number;
  readonly labelIndicesTable: number;
  readonly postings: number;
  readonly postingsTable: number;
}

/** IndexChunkMeta is what a series entry records about one chunk: its time range and ref. */
export interface IndexChunkMeta {
  /** ref is (segment index << 32) | byte offset in the segment, exact as a number below 2^53. */
  ref: number;
  minTime: number;
  maxTime: number;
}
