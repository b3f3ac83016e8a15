import type { FloatHistogram } from '../histogram/index.js';
import type { ValueType } from './value-type.js';

/**
 * SampleIterator is a synchronous pull iterator over the samples of one series (or one chunk), in
 * strictly increasing timestamp order. It is the equivalent of Prometheus's chunkenc.Iterator.
 *
 * Contract:
 * - next() advances and returns the type of the new current sample, or ValueType.None at the end or
 *   on error; after None, err() tells which. Once None, it stays None.
 * - seek(t) advances to the first sample with timestamp ≥ t and returns its type. It never moves
 *   backwards: if the current sample already has timestamp ≥ t it stays there. Calling seek before
 *   next is allowed.
 * - atT()/atF()/atFloatHistogram() read the current sample; they are only valid after next or seek
 *   returned a type other than None, and before the next call to next/seek. Reading does not
 *   allocate. atFloatHistogram(into) fills `into` when given (else an object owned by the iterator,
 *   overwritten by the next call) and is only valid for Histogram and FloatHistogram samples.
 * - Nothing allocates per sample. Iterators are reused through the `reuse` argument of
 *   Chunk.iterator / Series.iterator, which resets them in place.
 */
export interface SampleIterator {
  next(): ValueType;
  seek(t: number): ValueType;
  atT(): number;
  atF(): number;
  atFloatHistogram(into?: FloatHistogram): FloatHistogram;
  err(): Error | null;
}
