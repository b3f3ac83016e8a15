import { describe, expect, test } from 'vitest';
import { groupTitle, layoutRows, type BlockMeta } from './blocks-page.js';

const block = (ulid: string, minTime: number, maxTime: number, labels: Record<string, string> = {}): BlockMeta => ({
  ulid,
  minTime,
  maxTime,
  version: 1,
  compaction: { level: 1 },
  thanos: { labels, downsample: { resolution: 0 }, source: 'sidecar' },
});

describe('bucket page layout', () => {
  test('blocks go into the first row where they do not overlap; adjacent blocks share a row', () => {
    const rows = layoutRows([block('c', 4, 6), block('a', 0, 2), block('b', 2, 4), block('x', 1, 3), block('y', 1, 5)]);
    expect(rows.map((r) => r.map((b) => b.ulid))).toEqual([['a', 'b', 'c'], ['x'], ['y']]);
    expect(layoutRows([])).toEqual([]);
  });

  test('groups are titled by the chosen label, else by all external labels', () => {
    expect(groupTitle(block('a', 0, 1, { cluster: 'eu', replica: 'r1' }), 'cluster')).toBe('eu');
    expect(groupTitle(block('a', 0, 1, { replica: 'r1', cluster: 'eu' }), 'region')).toBe('{cluster="eu", replica="r1"}');
    expect(groupTitle(block('a', 0, 1), '')).toBe('(no external labels)');
  });
});
