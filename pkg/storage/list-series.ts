import { ValueType, type SampleIterator } from '../chunkenc/index.js';
import { FloatHistogram } from '../histogram/index.js';
import type { Labels } from '../labels/index.js';
import type { Series } from './interface.js';

/**
 * ListSeries is a Series backed by in-memory arrays: `ts` timestamps (strictly increasing) and, per
 * sample, either a float in `fs` or a histogram in `hs` (hs[i] set means a histogram sample). Used by
 * tests and by in-memory storage (the PromQL test runner). Values that may be stale markers must come
 * in a Float64Array: a JS number[] canonicalises NaN payloads, so a StaleNaN in one is a plain NaN.
 */
export class ListSeries implements Series {
  readonly #labels: Labels;
  readonly ts: readonly number[];
  readonly fs: ArrayLike<number>;
  readonly hs: readonly (FloatHistogram | undefined)[] | undefined;

  constructor(labels: Labels, ts: readonly number[], fs: ArrayLike<number>, hs?: readonly (FloatHistogram | undefined)[]) {
    if (ts.length !== fs.length) throw new RangeError(`ListSeries needs as many values as timestamps (${ts.length} vs ${fs.length})`);
    this.#labels = labels;
    this.ts = ts;
    this.fs = fs;
    this.hs = hs;
  }

  labels(): Labels {
    return this.#labels;
  }

  iterator(reuse?: SampleIterator): SampleIterator {
    if (reuse instanceof ListSeriesIterator) {
      reuse.reset(this);
      return reuse;
    }
    return new ListSeriesIterator(this);
  }
}

/** ListSeriesIterator iterates a ListSeries; reusable through reset. */
export class ListSeriesIterator implements SampleIterator {
  #s: ListSeries;
  #i = -1;
  readonly #scratch = new FloatHistogram();

  constructor(s: ListSeries) {
    this.#s = s;
  }

  reset(s: ListSeries): void {
    this.#s = s;
    this.#i = -1;
  }

  #type(): ValueType {
    if (this.#i >= this.#s.ts.length) return ValueType.None;
    return this.#s.hs?.[this.#i] !== undefined ? ValueType.FloatHistogram : ValueType.Float;
  }

  next(): ValueType {
    if (this.#i < this.#s.ts.length) this.#i++;
    return this.#type();
  }

  seek(t: number): ValueType {
    if (this.#i < 0) this.#i = 0;
    const ts = this.#s.ts;
    while (this.#i < ts.length && ts[this.#i]! < t) this.#i++;
    return this.#type();
  }

  atT(): number {
    return this.#s.ts[this.#i]!;
  }

  atF(): number {
    return this.#s.fs[this.#i]!;
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    const h = this.#s.hs?.[this.#i];
    if (h === undefined) throw new RangeError('atFloatHistogram called on a float sample');
    return (into ?? this.#scratch).copyFrom(h);
  }

  err(): null {
    return null;
  }
}
