import { describe, expect, test } from 'vitest';
import { ValueType } from '../chunkenc/index.js';
import { Labels, Matcher, MatchType } from '../labels/index.js';
import type { SeriesSet } from '../storage/index.js';
import { LocalStore, MemChunkQueryable, ProxyStore, inProcessClient, type ProxyTarget } from '../store/index.js';
import { StoreQueryable, createStoreQueryable } from './store-queryable.js';

function drain(set: SeriesSet): Record<string, [number, number][]> {
  const out: Record<string, [number, number][]> = {};
  while (set.next()) {
    const s = set.at();
    const it = s.iterator();
    const samples: [number, number][] = [];
    while (it.next() !== ValueType.None) samples.push([it.atT(), it.atF()]);
    expect(it.err()).toBeNull();
    out[s.labels().toString()] = samples;
  }
  expect(set.err()).toBeNull();
  return out;
}

function replicaStore(replica: string, ts: number[], value: (t: number) => number): ProxyTarget {
  const ext = Labels.fromRecord({ cluster: 'c1', replica });
  const q = new MemChunkQueryable([{ labels: Labels.fromRecord({ __name__: 'requests_total', job: 'api' }), samples: ts.map((t) => [t, value(t)] as const) }], {
    samplesPerChunk: 30,
  });
  const store = new LocalStore({ queryable: q, externalLabels: ext, componentType: 'sidecar', timeRange: () => q.timeRange() });
  return { client: inProcessClient(store, `replica-${replica}`), labelSets: [ext], minTime: -Infinity, maxTime: Infinity, supportsWithoutReplicaLabels: true };
}

describe('StoreQueryable', () => {
  // Replica a scrapes every 15s but misses [3000s, 3600s); replica b is shifted by 300 ms.
  const tsA = Array.from({ length: 480 }, (_, i) => i * 15_000).filter((t) => t < 3_000_000 || t >= 3_600_000);
  const tsB = Array.from({ length: 480 }, (_, i) => i * 15_000 + 300);
  const stores = [replicaStore('a', tsA, (t) => t / 1000), replicaStore('b', tsB, (t) => t / 1000)];
  const proxy = new ProxyStore({ targets: () => stores });
  const client = inProcessClient(proxy, 'proxy');
  const matchers = [new Matcher(MatchType.Equal, '__name__', 'requests_total')];

  test('without dedup both replicas come back with their replica label', async () => {
    const q = await new StoreQueryable(client, { replicaLabels: ['replica'], dedup: false, partialResponse: true }).querier(0, 8_000_000);
    const got = drain(await q.select(true, { start: 0, end: 8_000_000 }, matchers));
    expect(Object.keys(got)).toEqual([
      '{__name__="requests_total", cluster="c1", job="api", replica="a"}',
      '{__name__="requests_total", cluster="c1", job="api", replica="b"}',
    ]);
    expect(got['{__name__="requests_total", cluster="c1", job="api", replica="a"}']).toHaveLength(tsA.length);
  });

  test('with dedup the replicas merge into one series that fills the gap and never decreases', async () => {
    const q = await new StoreQueryable(client, { replicaLabels: ['replica'], dedup: true, partialResponse: true }).querier(0, 8_000_000);
    const got = drain(await q.select(true, { start: 0, end: 8_000_000, func: 'rate' }, matchers));
    const key = '{__name__="requests_total", cluster="c1", job="api"}';
    expect(Object.keys(got)).toEqual([key]);
    const samples = got[key]!;
    // One sample per scrape interval over the whole range: the gap of a is filled from b.
    expect(samples.length).toBeGreaterThanOrEqual(479);
    expect(samples.length).toBeLessThanOrEqual(480);
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i]![0] - samples[i - 1]![0]).toBeLessThanOrEqual(15_300);
      expect(samples[i]![1]).toBeGreaterThanOrEqual(samples[i - 1]![1]);
    }
  });

  test('label names hide replica labels under dedup', async () => {
    const q = await new StoreQueryable(client, { replicaLabels: ['replica'], dedup: true, partialResponse: true }).querier(0, 8_000_000);
    expect((await q.labelNames([])).values).toEqual(['__name__', 'cluster', 'job']);
    expect((await q.labelValues('replica', [])).values).toEqual([]);
  });

  test('createStoreQueryable over the stores themselves deduplicates like one over a proxy client', async () => {
    const byStores = await createStoreQueryable({ stores, replicaLabels: ['replica'], partialResponse: false }).querier(0, 8_000_000);
    const byClient = await createStoreQueryable({ client, replicaLabels: ['replica'], partialResponse: false }).querier(0, 8_000_000);
    const hints = { start: 0, end: 8_000_000, func: 'rate' };
    const got = drain(await byStores.select(true, hints, matchers));
    expect(Object.keys(got)).toEqual(['{__name__="requests_total", cluster="c1", job="api"}']);
    expect(got).toEqual(drain(await byClient.select(true, hints, matchers)));
    const noDedup = await createStoreQueryable({ stores, replicaLabels: [], partialResponse: false }).querier(0, 8_000_000);
    expect(Object.keys(drain(await noDedup.select(true, hints, matchers)))).toHaveLength(2);
  });
});
