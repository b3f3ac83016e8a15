import { describe, expect, test } from 'vitest';
import { isStaleNaN, staleNaN } from '../chunkenc/index.js';
import { Labels } from '../labels/index.js';
import { ListSeries } from './list-series.js';

describe('ListSeries', () => {
  test('values in a Float64Array keep a stale marker bit for bit', () => {
    // Not new Float64Array([1, staleNaN(), NaN]): the array literal already canonicalises the NaN.
    const vs = new Float64Array(3);
    vs[0] = 1;
    vs[1] = staleNaN();
    vs[2] = NaN;
    const it = new ListSeries(Labels.fromStrings('__name__', 'x'), [1, 2, 3], vs).iterator();
    const got: boolean[] = [];
    while (it.next() !== 0) got.push(isStaleNaN(it.atF()));
    expect(got).toEqual([false, true, false]);
  });
});
