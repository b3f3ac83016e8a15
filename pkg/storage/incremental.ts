import type { IncrementalSet } from './interface.js';

/** isIncremental tells whether a series set is an IncrementalSet (filled while it is iterated). */
export function isIncremental<T extends object>(set: T): set is T & IncrementalSet {
  return typeof (set as Partial<IncrementalSet>).more === 'function' && typeof (set as Partial<IncrementalSet>).done === 'function';
}
