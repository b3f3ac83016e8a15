import type { ChunkSeries, ChunkSeriesSet, Series, SeriesSet, Warnings } from './interface.js';

const noWarnings: Warnings = Object.freeze([]);

class EmptySet implements SeriesSet, ChunkSeriesSet {
  next(): boolean {
    return false;
  }
  at(): never {
    throw new RangeError('at() called on an empty series set');
  }
  err(): null {
    return null;
  }
  warnings(): Warnings {
    return noWarnings;
  }
}

const empty = new EmptySet();

/** emptySeriesSet returns the shared empty set; sources return it to signal "nothing" cheaply. */
export function emptySeriesSet(): SeriesSet {
  return empty;
}

/** emptyChunkSeriesSet returns the shared empty chunk series set. */
export function emptyChunkSeriesSet(): ChunkSeriesSet {
  return empty;
}

class ErrSet implements SeriesSet, ChunkSeriesSet {
  readonly #err: Error;
  constructor(err: Error) {
    this.#err = err;
  }
  next(): boolean {
    return false;
  }
  at(): never {
    throw new RangeError('at() called on an error series set');
  }
  err(): Error {
    return this.#err;
  }
  warnings(): Warnings {
    return noWarnings;
  }
}

/** errSeriesSet returns a set that yields nothing and reports err. */
export function errSeriesSet(err: Error): SeriesSet {
  return new ErrSet(err);
}

/** errChunkSeriesSet returns a chunk series set that yields nothing and reports err. */
export function errChunkSeriesSet(err: Error): ChunkSeriesSet {
  return new ErrSet(err);
}

/**
 * ArraySeriesSet iterates an array of series in the given order (callers sort when needed) and
 * carries optional warnings.
 */
export class ArraySeriesSet<S extends Series | ChunkSeries = Series> {
  readonly #items: readonly S[];
  readonly #warnings: Warnings;
  #i = -1;

  constructor(items: readonly S[], warnings: Warnings = noWarnings) {
    this.#items = items;
    this.#warnings = warnings;
  }

  next(): boolean {
    if (this.#i < this.#items.length) this.#i++;
    return this.#i < this.#items.length;
  }

  at(): S {
    const s = this.#items[this.#i];
    if (s === undefined) throw new RangeError('at() called without a current series');
    return s;
  }

  err(): null {
    return null;
  }

  warnings(): Warnings {
    return this.#warnings;
  }
}
