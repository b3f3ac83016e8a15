import { describe, expect, test } from 'vitest';
import { ValueType, XorChunk } from '../chunkenc/index.js';
import { Labels, Matcher, MatchType } from '../labels/index.js';
import { isIncremental, type SeriesSet } from '../storage/index.js';
import { LocalStore, MemChunkQueryable, ProxyStore, inProcessClient, type ProxyTarget, type StoreClient } from '../store/index.js';
import type { AggrChunk, StoreSeries } from '../storepb/index.js';
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

describe('StoreQueryable series order', () => {
  const T = Array.from({ length: 41 }, (_, i) => i * 15_000);
  const chunk = (off: number, bump: number): AggrChunk => {
    const c = new XorChunk();
    const app = c.appender();
    for (const t of T) app.append(t + off, (t + off) / 1000 + (t === 300_000 ? bump : 0));
    return { minTime: T[0]! + off, maxTime: T[T.length - 1]! + off, raw: { type: 0, data: c.bytes(), hashHi: 0, hashLo: 0 } };
  };
  /** The series of one store: every instance × zone of `up` (zone sorts after replica), and instance-only ones. */
  const storeSeries = (replica: string, off: number, bump: number): StoreSeries[] => {
    const out: StoreSeries[] = [];
    for (const instance of ['i1', 'i2', 'i3']) {
      for (const zone of ['', 'z1', 'z2']) {
        const rec: Record<string, string> = { __name__: 'up', instance, replica };
        if (zone !== '') rec['zone'] = zone;
        out.push({ labels: Labels.fromRecord(rec), chunks: [chunk(off, bump)] });
      }
    }
    return out.sort((a, b) => Labels.compare(a.labels, b.labels));
  };

  /** A store that sends its series in frames of `per`, each after `delay(i)` turns of the event loop. */
  const fakeStore = (name: string, replica: string, series: StoreSeries[], per: number, delay: (i: number) => number): ProxyTarget => {
    const client: StoreClient = {
      name,
      info: () => Promise.reject(new Error('not used')),
      labelNames: () => Promise.reject(new Error('not used')),
      labelValues: () => Promise.reject(new Error('not used')),
      async *series() {
        for (let i = 0; i < series.length; i += per) {
          for (let k = delay(i); k > 0; k--) await new Promise<void>((r) => setImmediate(r));
          yield [{ kind: 'batch', batch: series.slice(i, i + per) }];
        }
      },
    };
    return { client, labelSets: [Labels.fromRecord({ replica })], minTime: -Infinity, maxTime: Infinity, supportsWithoutReplicaLabels: true };
  };

  async function ordered(targets: ProxyTarget[]): Promise<[string, [number, number][]][]> {
    const q = await new StoreQueryable(inProcessClient(new ProxyStore({ targets: () => targets }), 'proxy'), { replicaLabels: ['replica'], dedup: true, partialResponse: false }).querier(0, 700_000);
    const set = await q.select(false, { start: 0, end: 700_000 }, [new Matcher(MatchType.Equal, '__name__', 'up')], { incremental: true });
    const out: [string, [number, number][]][] = [];
    for (;;) {
      while (set.next()) {
        const it = set.at().iterator();
        const samples: [number, number][] = [];
        while (it.next() !== ValueType.None) samples.push([it.atT(), it.atF()]);
        out.push([set.at().labels().toString(), samples]);
      }
      expect(set.err()).toBeNull();
      if (!isIncremental(set) || set.done()) break;
      await set.more();
    }
    await q.close();
    return out;
  }

  test('the engine gets the same series in the same order whatever the stores order and frame timing', async () => {
    // Replica a from two stores (a sidecar and a store gateway, say) whose chunks have equal
    // ranges but different bytes; replica b 300 ms late from a third.
    const stores = (per: number, delay: (i: number) => number, seed: number): ProxyTarget[] => [
      fakeStore('a1', 'a', storeSeries('a', 0, 0), per, (i) => delay(i + seed)),
      fakeStore('a2', 'a', storeSeries('a', 0, 0.25), per + 1, (i) => delay(i + 2 * seed)),
      fakeStore('b', 'b', storeSeries('b', 300, 0), per + 2, (i) => delay(i + 3 * seed)),
    ];
    const want = await ordered(stores(1, () => 0, 0));
    expect(want).toHaveLength(9);
    expect(want.every(([, samples]) => samples.length === 41)).toBe(true);
    const perms = [[0, 1, 2], [1, 0, 2], [2, 1, 0], [1, 2, 0]];
    for (let seed = 1; seed <= 3; seed++) {
      for (const perm of perms) {
        const ts = stores(seed, (i) => (i * 7 + seed) % 4, seed);
        expect(await ordered(perm.map((k) => ts[k]!))).toEqual(want);
      }
    }
  });
});
