import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { IndexCache } from './index-cache.js';
import { Labels } from '../../labels/index.js';

describe('IndexCache metrics', () => {
  test('lookups and hits per item type are counted (also across collections)', async () => {
    const registry = new Registry();
    const c = new IndexCache({ maxBytes: 1 << 20, registry });
    const value = (name: string, type: string) => registry.getSingleMetricAsString(name).then((s) => Number(new RegExp(`item_type="${type}"} (\\d+)`).exec(s)?.[1]));
    expect(await value('thanos_store_index_cache_requests_total', 'Series')).toBe(0);
    c.setSeries('b1', 16, Uint8Array.of(1, 2));
    c.setPostings('b1', 'a', 'x', Uint8Array.of(3));
    expect(c.getSeries('b1', 16)).toEqual(Uint8Array.of(1, 2));
    expect(c.getSeries('b1', 32)).toBeUndefined();
    expect(c.getPostings('b1', 'a', 'x')).toEqual(Uint8Array.of(3));
    expect(await value('thanos_store_index_cache_requests_total', 'Series')).toBe(2);
    expect(await value('thanos_store_index_cache_hits_total', 'Series')).toBe(1);
    expect(await value('thanos_store_index_cache_requests_total', 'Postings')).toBe(1);
    c.getSeries('b1', 16);
    expect(await value('thanos_store_index_cache_requests_total', 'Series')).toBe(3);
    expect(await value('thanos_store_index_cache_hits_total', 'Series')).toBe(2);
    expect(await value('thanos_store_index_cache_hits_total', 'Postings')).toBe(1);
  });
});

describe('IndexCache decoded series', () => {
  const decoded = (chunks: number) => ({
    labels: Labels.fromStrings('__name__', 'up', 'job', 'x'),
    chunks: Array.from({ length: chunks }, (_, i) => ({ ref: 8 + i * 100, minTime: i * 10, maxTime: i * 10 + 9 })),
    bodyBytes: 40,
  });

  test('kept per block and ref, counted as Series lookups when hit, sized within the budget', async () => {
    const registry = new Registry();
    const c = new IndexCache({ maxBytes: 1 << 20, registry });
    const value = (name: string) => registry.getSingleMetricAsString(name).then((s) => Number(/item_type="Series"} (\d+)/.exec(s)?.[1]));
    const d = decoded(4);
    expect(c.getDecodedSeries('b1', 16)).toBeUndefined();
    c.setDecodedSeries('b1', 16, d);
    expect(c.getDecodedSeries('b1', 16)).toBe(d);
    expect(c.getDecodedSeries('b2', 16)).toBeUndefined();
    expect(c.getDecodedSeries('b1', 32)).toBeUndefined();
    // Only hits count (a miss is followed by a lookup of the bytes, which counts).
    expect(await value('thanos_store_index_cache_requests_total')).toBe(1);
    expect(await value('thanos_store_index_cache_hits_total')).toBe(1);
    // Its memory counts: objects, labels and each chunk meta.
    expect(c.sizeBytes).toBeGreaterThanOrEqual(16 * 2 + 4 * 96);
    // Not kept when Series items are disabled or nothing is kept in memory.
    const off = new IndexCache({ maxBytes: 1 << 20, enabledItems: ['Postings'] });
    off.setDecodedSeries('b1', 16, d);
    expect(off.getDecodedSeries('b1', 16)).toBeUndefined();
    expect(off.sizeBytes).toBe(0);
  });

  test('the byte budget evicts decoded series like any other item', () => {
    const d = decoded(100);
    const c = new IndexCache({ maxBytes: 50_000 });
    for (let r = 0; r < 10; r++) c.setDecodedSeries('b1', r, d);
    expect(c.sizeBytes).toBeLessThanOrEqual(50_000);
    expect(c.getDecodedSeries('b1', 9)).toBe(d);
    expect(c.getDecodedSeries('b1', 0)).toBeUndefined();
  });
});
