import { describe, expect, test } from 'vitest';
import type { FilterContext } from '../block/index.js';
import { UlidGenerator, type BlockMeta } from '../tsdb/index.js';
import { ConsistencyDelayMetaFilter, TOO_FRESH } from './consistency-delay-filter.js';
import { DeduplicateFilter } from './deduplicate-filter.js';
import { groupBlocks, groupKey, labelSetHash } from './group.js';
import { ReplicaLabelRemover } from './replica-label-remover.js';

const H = 3_600_000;

function meta(labels: Record<string, string>, o: { minH?: number; maxH?: number; res?: number; sources?: string[]; source?: string; ulidMs?: number; upload?: string } = {}): BlockMeta {
  const ulid = new UlidGenerator().next(o.ulidMs ?? Date.now() - 10 * H);
  return {
    ulid,
    minTime: (o.minH ?? 0) * H,
    maxTime: (o.maxH ?? 2) * H,
    stats: {},
    compaction: { level: 1, sources: o.sources ?? [ulid] },
    version: 1,
    thanos: { labels, downsample: { resolution: o.res ?? 0 }, source: o.source ?? 'sidecar', index_stats: {}, ...(o.upload !== undefined ? { upload_time: o.upload } : {}) },
  };
}

function ctx(): FilterContext & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return { counts, count: (s, n = 1) => counts.set(s, (counts.get(s) ?? 0) + n), hasObject: () => undefined };
}

const toMap = (ms: BlockMeta[]) => new Map(ms.map((m) => [m.ulid, m]));

describe('grouping', () => {
  test('groups by resolution and external labels, keys sorted, blocks by minTime', () => {
    const a2 = meta({ c: '1' }, { minH: 2, maxH: 4 });
    const a0 = meta({ c: '1' }, { minH: 0, maxH: 2 });
    const b = meta({ c: '2' });
    const a5m = meta({ c: '1' }, { res: 300_000 });
    const gs = groupBlocks([a2, b, a0, a5m]);
    expect(gs).toHaveLength(3);
    const g1 = gs.find((g) => g.key === groupKey(a0))!;
    expect(g1.metas.map((m) => m.ulid)).toEqual([a0.ulid, a2.ulid]);
    expect(g1.resolution).toBe(0);
    expect(g1.labels).toEqual({ c: '1' });
    expect(groupKey(a5m)).toMatch(/^300000@\d+$/);
    expect([...gs.map((g) => g.key)].sort()).toEqual(gs.map((g) => g.key));
  });

  test('label-set hash is order independent and distinguishes sets', () => {
    expect(labelSetHash({ a: '1', b: '2' })).toBe(labelSetHash({ b: '2', a: '1' }));
    expect(labelSetHash({ a: '1', b: '2' })).not.toBe(labelSetHash({ a: '12' }));
    expect(labelSetHash({})).toBe('17241709254077376921'); // xxHash64 of the empty input
  });
});

describe('ReplicaLabelRemover', () => {
  test('removes replica labels into copies; a block left empty gets replica="deduped"', async () => {
    const a = meta({ cluster: 'c', replica: 'a' });
    const b = meta({ replica: 'b' });
    const metas = toMap([a, b]);
    await new ReplicaLabelRemover(['replica', 'rule_replica']).filter(metas, ctx());
    expect(metas.get(a.ulid)!.thanos!.labels).toEqual({ cluster: 'c' });
    expect(metas.get(b.ulid)!.thanos!.labels).toEqual({ replica: 'deduped' });
    expect(a.thanos!.labels).toEqual({ cluster: 'c', replica: 'a' }); // original untouched
  });
});

describe('ConsistencyDelayMetaFilter', () => {
  test('hides young blocks by upload time, else ULID time, except compactor output', async () => {
    const now = Date.now();
    const old = meta({ c: '1' }, { ulidMs: now - 2 * H });
    const young = meta({ c: '1' }, { ulidMs: now - 60_000 });
    const youngUpload = meta({ c: '1' }, { ulidMs: now - 2 * H, upload: new Date(now - 60_000).toISOString() });
    const zeroUpload = meta({ c: '1' }, { ulidMs: now - 2 * H, upload: '0001-01-01T00:00:00Z' });
    const compacted = meta({ c: '1' }, { ulidMs: now - 60_000, source: 'compactor' });
    const metas = toMap([old, young, youngUpload, zeroUpload, compacted]);
    const c = ctx();
    await new ConsistencyDelayMetaFilter(30 * 60_000, () => now).filter(metas, c);
    expect([...metas.keys()].sort()).toEqual([old.ulid, zeroUpload.ulid, compacted.ulid].sort());
    expect(c.counts.get(TOO_FRESH)).toBe(2);
  });
});

describe('DeduplicateFilter', () => {
  test('hides blocks whose sources a bigger block of the same group holds', async () => {
    const s1 = meta({ c: '1' }, { minH: 0, maxH: 2 });
    const s2 = meta({ c: '1' }, { minH: 2, maxH: 4 });
    const s3 = meta({ c: '1' }, { minH: 4, maxH: 6 });
    const big = meta({ c: '1' }, { minH: 0, maxH: 4, sources: [s1.ulid, s2.ulid].sort() });
    const other = meta({ c: '2' }, { minH: 0, maxH: 2, sources: [s1.ulid] }); // other group: kept
    const metas = toMap([s1, s2, s3, big, other]);
    const f = new DeduplicateFilter();
    await f.filter(metas, ctx());
    expect([...f.duplicateIds()]).toEqual([s1.ulid, s2.ulid].sort());
    expect([...metas.keys()].sort()).toEqual([s3.ulid, big.ulid, other.ulid].sort());
  });

  test('replicas with disjoint sources are not duplicates; a block without sources is its own source', async () => {
    const a = meta({ c: '1' });
    const b = meta({ c: '1' });
    const none: BlockMeta = { ...meta({ c: '1' }), compaction: { level: 1 } };
    const metas = toMap([a, b, none]);
    const f = new DeduplicateFilter();
    await f.filter(metas, ctx());
    expect(f.duplicateIds()).toEqual([]);
    expect(metas.size).toBe(3);
  });
});
