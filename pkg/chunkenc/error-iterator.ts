import type { FloatHistogram } from '../histogram/index.js';
import type { SampleIterator } from './sample-iterator.js';
import { ValueType } from './value-type.js';

/** ErrorIterator yields no sample and reports err: what a chunk returns when it cannot be iterated. */
export class ErrorIterator implements SampleIterator {
  readonly #err: Error;

  constructor(err: Error) {
    this.#err = err;
  }

  next(): ValueType {
    return ValueType.None;
  }

  seek(_t: number): ValueType {
    return ValueType.None;
  }

  atT(): number {
    return 0;
  }

  atF(): number {
    return 0;
  }

  atFloatHistogram(_into?: FloatHistogram): FloatHistogram {
    throw new TypeError('no current sample');
  }

  err(): Error | null {
    return this.#err;
  }
}
