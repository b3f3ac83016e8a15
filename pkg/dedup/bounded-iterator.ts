import { ValueType, type SampleIterator } from '../chunkenc/index.js';
import type { FloatHistogram } from '../histogram/index.js';

/**
 * BoundedIterator yields only the samples of `it` with mint ≤ t ≤ maxt (inclusive, ms), as
 * Thanos's boundedSeriesIterator. The first next() seeks the child to mint (cheap skipping of
 * chunks before the query range); it ends at the first sample after maxt.
 */
export class BoundedIterator implements SampleIterator {
  #it: SampleIterator;
  #mint: number;
  #maxt: number;
  #started = false;
  #done = false;

  constructor(it: SampleIterator, mint: number, maxt: number) {
    this.#it = it;
    this.#mint = mint;
    this.#maxt = maxt;
  }

  /** reset reuses this iterator for another child and range. */
  reset(it: SampleIterator, mint: number, maxt: number): void {
    this.#it = it;
    this.#mint = mint;
    this.#maxt = maxt;
    this.#started = false;
    this.#done = false;
  }

  #check(ty: ValueType): ValueType {
    if (ty === ValueType.None || this.#it.atT() > this.#maxt) {
      this.#done = true;
      return ValueType.None;
    }
    return ty;
  }

  next(): ValueType {
    if (this.#done) return ValueType.None;
    if (!this.#started) {
      this.#started = true;
      return this.#check(this.#it.seek(this.#mint));
    }
    return this.#check(this.#it.next());
  }

  seek(t: number): ValueType {
    if (this.#done) return ValueType.None;
    this.#started = true;
    return this.#check(this.#it.seek(t < this.#mint ? this.#mint : t));
  }

  atT(): number {
    return this.#it.atT();
  }

  atF(): number {
    return this.#it.atF();
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return this.#it.atFloatHistogram(into);
  }

  err(): Error | null {
    return this.#it.err();
  }
}
