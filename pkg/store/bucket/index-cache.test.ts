import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { IndexCache } from './index-cache.js';

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
