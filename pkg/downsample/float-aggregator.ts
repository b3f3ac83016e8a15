/**
 * FloatAggregator keeps the statistics of one resolution window (count, sum, min, max) and the
 * counter total since the first sample of the batch (Thanos's floatAggregator): the first sample
 * sets the counter, a later one adds `v - last` when `v >= last`, else `v` (a reset).
 * min starts at the largest finite float and max at its negative, as in Thanos, so a window of only
 * +Inf keeps min at Number.MAX_VALUE (and one of only -Inf keeps max at -Number.MAX_VALUE).
 */
export class FloatAggregator {
  /** total counts every sample added since construction or clear. */
  total = 0;
  count = 0;
  sum = 0;
  min = Number.MAX_VALUE;
  max = -Number.MAX_VALUE;
  counter = 0;
  last = 0;

  /** clear starts a new batch (what a fresh Thanos aggregator is). */
  clear(): void {
    this.total = 0;
    this.counter = 0;
    this.last = 0;
    this.reset();
  }

  /** reset starts a new window. */
  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Number.MAX_VALUE;
    this.max = -Number.MAX_VALUE;
  }

  add(v: number): void {
    if (this.total > 0) {
      this.counter += v < this.last ? v : v - this.last;
    } else {
      this.counter = v;
    }
    this.last = v;
    this.sum += v;
    this.count++;
    this.total++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}
