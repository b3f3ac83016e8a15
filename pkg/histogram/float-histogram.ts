/**
 * Span is a run of consecutive buckets: `offset` buckets are skipped (relative to the end of the
 * previous span, or to index 0 for the first), then `length` buckets follow.
 */
export interface Span {
  offset: number;
  length: number;
}

/** CounterResetHint numbering matches Prometheus (histogram.CounterResetHint). */
export const CounterResetHint = {
  Unknown: 0,
  CounterReset: 1,
  NotCounterReset: 2,
  Gauge: 3,
} as const;
export type CounterResetHint = (typeof CounterResetHint)[keyof typeof CounterResetHint];

/**
 * FloatHistogram is a native histogram with float counts, as Prometheus's histogram.FloatHistogram:
 * exponential buckets (schema −4…8, or −53 for custom buckets with `customValues` as upper bounds),
 * bucket counts stored as absolute values (not deltas). Mutable so iterators can fill a caller's
 * object in place; treat values returned by iterators as owned by the iterator unless copied.
 */
export class FloatHistogram {
  counterResetHint: CounterResetHint = CounterResetHint.Unknown;
  schema = 0;
  zeroThreshold = 0;
  zeroCount = 0;
  count = 0;
  sum = 0;
  positiveSpans: Span[] = [];
  negativeSpans: Span[] = [];
  positiveBuckets: number[] = [];
  negativeBuckets: number[] = [];
  customValues: number[] = [];

  /** copy returns a deep copy. */
  copy(): FloatHistogram {
    const h = new FloatHistogram();
    h.copyFrom(this);
    return h;
  }

  /** copyFrom overwrites this histogram with a deep copy of o. */
  copyFrom(o: FloatHistogram): this {
    this.counterResetHint = o.counterResetHint;
    this.schema = o.schema;
    this.zeroThreshold = o.zeroThreshold;
    this.zeroCount = o.zeroCount;
    this.count = o.count;
    this.sum = o.sum;
    this.positiveSpans = o.positiveSpans.map((s) => ({ offset: s.offset, length: s.length }));
    this.negativeSpans = o.negativeSpans.map((s) => ({ offset: s.offset, length: s.length }));
    this.positiveBuckets = o.positiveBuckets.slice();
    this.negativeBuckets = o.negativeBuckets.slice();
    this.customValues = o.customValues.slice();
    return this;
  }
}
