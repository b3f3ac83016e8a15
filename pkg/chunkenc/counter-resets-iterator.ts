import { FloatHistogram } from '../histogram/index.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';

/**
 * CounterResetsIterator turns counter samples into a monotonic total (Thanos's
 * ApplyCounterResetsSeriesIterator, algorithms.md §3.5). It reads raw counter chunks as well as the
 * counter sub-chunks of aggregate chunks, whose first sample is the first raw value and whose last
 * sample repeats the previous timestamp with the true last raw value:
 * - NaN samples are skipped; the first sample starts the total;
 * - a later timestamp adds `v - last` when `v >= last`, else `v` (a reset), and is emitted;
 * - a repeated timestamp only updates `last` (so a reset between two chunks is seen);
 * - an earlier timestamp is ignored.
 * Samples before mint still count but are not emitted; the first one after maxt ends iteration.
 * Histogram samples pass through unchanged. seek never skips underlying samples (every sample is
 * needed for the total). Reusable through reset; nothing is allocated per sample.
 */
export class CounterResetsIterator implements SampleIterator {
  #it: SampleIterator | undefined;
  #mint = -Infinity;
  #maxt = Infinity;
  #t = 0;
  #total = 0;
  #lastV = 0;
  #vt: ValueType = ValueType.None;
  #started = false;
  #done = true;
  readonly #scratch = new FloatHistogram();

  constructor(it?: SampleIterator, mint = -Infinity, maxt = Infinity) {
    if (it !== undefined) this.reset(it, mint, maxt);
  }

  /** reset re-points the iterator at the samples of it, bounded to [mint, maxt]. */
  reset(it: SampleIterator, mint = -Infinity, maxt = Infinity): this {
    this.#it = it;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#t = 0;
    this.#total = 0;
    this.#lastV = 0;
    this.#vt = ValueType.None;
    this.#started = false;
    this.#done = false;
    return this;
  }

  /** inner returns the iterator being read (for reuse). */
  inner(): SampleIterator | undefined {
    return this.#it;
  }

  next(): ValueType {
    if (this.#done) return ValueType.None;
    const it = this.#it!;
    for (;;) {
      const vt = it.next();
      if (vt === ValueType.None) return this.#finish();
      const t = it.atT();
      if (vt !== ValueType.Float) {
        this.#t = t;
        this.#vt = vt;
      } else {
        const v = it.atF();
        if (Number.isNaN(v)) continue;
        if (!this.#started) {
          this.#started = true;
          this.#total = v;
          this.#lastV = v;
          this.#t = t;
        } else if (t > this.#t) {
          this.#total += v >= this.#lastV ? v - this.#lastV : v;
          this.#lastV = v;
          this.#t = t;
        } else {
          if (t === this.#t) this.#lastV = v;
          continue;
        }
        this.#vt = ValueType.Float;
      }
      if (this.#t > this.#maxt) return this.#finish();
      if (this.#t >= this.#mint) return this.#vt;
    }
  }

  #finish(): ValueType {
    this.#done = true;
    this.#vt = ValueType.None;
    return ValueType.None;
  }

  seek(t: number): ValueType {
    if (this.#done) return ValueType.None;
    if (this.#vt !== ValueType.None && this.#t >= t) return this.#vt;
    for (;;) {
      const vt = this.next();
      if (vt === ValueType.None || this.#t >= t) return vt;
    }
  }

  atT(): number {
    return this.#t;
  }

  /** atF returns the running total at the current sample. */
  atF(): number {
    return this.#total;
  }

  /**
   * lastRaw returns the last raw value seen: after the end of a counter sub-chunk, its true last
   * raw value (what downsampling stores after the last window).
   */
  lastRaw(): number {
    return this.#lastV;
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    if (this.#vt === ValueType.Histogram || this.#vt === ValueType.FloatHistogram) return this.#it!.atFloatHistogram(into);
    return into ?? this.#scratch;
  }

  err(): Error | null {
    return this.#it === undefined ? null : this.#it.err();
  }
}
