import { FloatHistogram } from '../histogram/index.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';

/**
 * AverageIterator zips a sum and a count iterator (float aggregates of downsampled chunks) into
 * `sum / count` at the timestamps both have (algorithms.md §5.3, the default for selectors that
 * ask for no particular aggregate). Reusable through reset.
 */
export class AverageIterator implements SampleIterator {
  #sum: SampleIterator | undefined;
  #count: SampleIterator | undefined;
  readonly #scratch = new FloatHistogram();

  constructor(sum?: SampleIterator, count?: SampleIterator) {
    if (sum !== undefined && count !== undefined) this.reset(sum, count);
  }

  /** reset re-points the iterator at new sum and count iterators. */
  reset(sum: SampleIterator, count: SampleIterator): this {
    this.#sum = sum;
    this.#count = count;
    return this;
  }

  /** sumIterator and countIterator return the iterators being read (for reuse). */
  sumIterator(): SampleIterator | undefined {
    return this.#sum;
  }

  countIterator(): SampleIterator | undefined {
    return this.#count;
  }

  #align(vt: ValueType): ValueType {
    const sum = this.#sum!;
    const count = this.#count!;
    while (vt !== ValueType.None) {
      const t = sum.atT();
      if (count.seek(t) === ValueType.None) return ValueType.None;
      if (count.atT() === t) return ValueType.Float;
      vt = sum.seek(count.atT());
    }
    return ValueType.None;
  }

  next(): ValueType {
    if (this.#sum === undefined) return ValueType.None;
    return this.#align(this.#sum.next());
  }

  seek(t: number): ValueType {
    if (this.#sum === undefined) return ValueType.None;
    return this.#align(this.#sum.seek(t));
  }

  atT(): number {
    return this.#sum!.atT();
  }

  atF(): number {
    return this.#sum!.atF() / this.#count!.atF();
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    return into ?? this.#scratch;
  }

  err(): Error | null {
    return this.#sum?.err() ?? this.#count?.err() ?? null;
  }
}
