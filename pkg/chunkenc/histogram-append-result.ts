import { CounterResetHint, type FloatHistogram } from '../histogram/index.js';
import { isStaleNaN } from './float-bits.js';
import { CounterResetHeader, CUSTOM_BUCKETS_SCHEMA, spansEqual, valuesEqual, type HistogramLayout } from './histogram-layout.js';

/**
 * HistogramAppendResult tells what appendHistogram did. Appended: the sample is in the chunk.
 * CounterReset: not appended because it is a counter reset (lower count, a bucket count went down
 * or disappeared, or the sample's hint says so): cut a new chunk with the CounterReset header.
 * NewChunk: not appended because the chunk cannot hold it (schema, zero threshold, bucket layout or
 * custom bounds changed, gauge/counter kind changed, a sample after a stale marker, chunk full):
 * cut a new chunk. Our appenders never re-code a chunk to a wider bucket layout as Prometheus does;
 * a new layout always starts a new chunk.
 */
export const HistogramAppendResult = {
  Appended: 0,
  CounterReset: 1,
  NewChunk: 2,
} as const;
export type HistogramAppendResult = (typeof HistogramAppendResult)[keyof typeof HistogramAppendResult];

/** AppendState is what appendability depends on: the chunk's layout and last sample. */
export interface AppendState {
  num: number;
  header: number;
  layout: HistogramLayout;
  lastStale: boolean;
  lastCount: number;
  lastZeroCount: number;
  /** Absolute bucket counts of the last sample: positive then negative. */
  lastBuckets: ArrayLike<number>;
}

/**
 * appendability decides whether h can be appended to a non-empty chunk without re-coding, following
 * Prometheus's appendable / appendableGauge minus bucket-layout expansion.
 */
export function appendability(s: AppendState, h: FloatHistogram): HistogramAppendResult {
  if (s.num >= 0xffff) return HistogramAppendResult.NewChunk;
  const gauge = h.counterResetHint === CounterResetHint.Gauge;
  if (gauge !== (s.header === CounterResetHeader.Gauge)) return HistogramAppendResult.NewChunk;
  if (!gauge && h.counterResetHint === CounterResetHint.CounterReset) return HistogramAppendResult.CounterReset;
  if (isStaleNaN(h.sum)) return HistogramAppendResult.Appended;
  if (s.lastStale) return HistogramAppendResult.NewChunk;
  if (!gauge && h.count < s.lastCount) return HistogramAppendResult.CounterReset;
  const l = s.layout;
  if (h.schema !== l.schema || h.zeroThreshold !== l.zeroThreshold) return HistogramAppendResult.NewChunk;
  if (h.schema === CUSTOM_BUCKETS_SCHEMA && !valuesEqual(h.customValues, l.customValues)) return gauge ? HistogramAppendResult.NewChunk : HistogramAppendResult.CounterReset;
  if (!gauge && h.zeroCount < s.lastZeroCount) return HistogramAppendResult.CounterReset;
  if (!spansEqual(h.positiveSpans, l.positiveSpans) || !spansEqual(h.negativeSpans, l.negativeSpans)) return HistogramAppendResult.NewChunk;
  if (!gauge) {
    const np = h.positiveBuckets.length;
    for (let i = 0; i < np; i++) if (h.positiveBuckets[i]! < s.lastBuckets[i]!) return HistogramAppendResult.CounterReset;
    for (let i = 0; i < h.negativeBuckets.length; i++) if (h.negativeBuckets[i]! < s.lastBuckets[np + i]!) return HistogramAppendResult.CounterReset;
  }
  return HistogramAppendResult.Appended;
}

/** checkShape throws a RangeError when h's bucket arrays do not match its spans. */
export function checkShape(h: FloatHistogram, np: number, nn: number): void {
  if (h.positiveBuckets.length !== np || h.negativeBuckets.length !== nn) {
    throw new RangeError(`histogram has ${h.positiveBuckets.length}/${h.negativeBuckets.length} positive/negative buckets, its spans describe ${np}/${nn}`);
  }
}
