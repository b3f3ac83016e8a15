import type { SampleIterator } from './sample-iterator.js';

/**
 * Encoding is a chunk encoding, numbered as in the TSDB chunk files (chunkenc.Encoding):
 * XOR = 1, Histogram = 2, FloatHistogram = 3, and Thanos's downsampled aggregate chunk = 0xFF.
 * (StoreAPI and remote read number them differently; their codecs convert.)
 */
export const Encoding = {
  None: 0,
  XOR: 1,
  Histogram: 2,
  FloatHistogram: 3,
  Aggr: 0xff,
} as const;
export type Encoding = (typeof Encoding)[keyof typeof Encoding];

/** Appender adds samples to a chunk, in increasing timestamp order. */
export interface Appender {
  append(t: number, v: number): void;
}

/**
 * Chunk is one encoded chunk. bytes() returns the encoded data exactly as stored on disk (the
 * part after the encoding byte); callers must not modify it. iterator(reuse) resets and returns
 * `reuse` when it is an iterator of the same implementation, else a new one.
 */
export interface Chunk {
  encoding(): Encoding;
  bytes(): Uint8Array;
  numSamples(): number;
  iterator(reuse?: SampleIterator): SampleIterator;
}

/**
 * ChunkMeta is a chunk with the time range it covers (inclusive) and, for chunks read from a block,
 * its reference (segment file index << 32 | offset, as a number; exact below 2^53).
 */
export interface ChunkMeta {
  ref: number;
  minTime: number;
  maxTime: number;
  chunk: Chunk;
}
