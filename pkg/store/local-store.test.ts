import { describe, expect, test } from 'vitest';
import { XorChunk, isStaleNaN, staleNaN } from '../chunkenc/index.js';
import { Labels, Matcher, MatchType } from '../labels/index.js';
import type { ChunkQueryable } from '../storage/index.js';
import type { SeriesRequest, SeriesResponse } from '../storepb/index.js';
import { inProcessClient } from './inprocess.js';
import { LocalStore } from './local-store.js';
import { MemChunkQueryable } from './mem-chunk-queryable.js';
import type { StoreServer } from './store-api.js';
import { GrpcCode, StoreError } from './store-error.js';

const data = Array.from({ length: 10 }, (_, i) => ({ labels: Labels.fromStrings('__name__', 'm', 'i', String(i)), samples: [[1000, i] as const, [2000, i] as const] }));

async function frames(store: StoreServer, req: Partial<SeriesRequest>): Promise<SeriesResponse[]> {
  const out: SeriesResponse[] = [];
  await store.series({ minTime: 0, maxTime: 5000, matchers: [{ type: 0, name: '__name__', value: 'm' }], ...req }, { send: (r) => void out.push(r) }, new AbortController().signal);
  return out;
}

describe('LocalStore', () => {
  test('a stale marker given as a MemSample reaches the StoreAPI chunk with its bit pattern', async () => {
    const l = Labels.fromStrings('__name__', 'm', 'i', 'stale');
    const s = new LocalStore({ queryable: new MemChunkQueryable([{ labels: l, points: [{ t: 1000, v: 1 }, { t: 2000, v: staleNaN() }, { t: 3000, v: NaN }] }]) });
    const out = await frames(s, {});
    expect(out).toHaveLength(1);
    const f = out[0]!;
    if (f.kind !== 'series') throw new Error(`got a ${f.kind} frame`);
    const got: string[] = [];
    for (const c of f.series.chunks) {
      const it = XorChunk.fromBytes(c.raw!.data).iterator();
      while (it.next() !== 0) got.push(`${it.atT()} ${isStaleNaN(it.atF()) ? 'stale' : it.atF()}`);
    }
    expect(got).toEqual(['1000 1', '2000 stale', '3000 NaN']);
  });

  test('rejects a request whose only matchers are on external labels', async () => {
    const s = new LocalStore({ queryable: new MemChunkQueryable(data), externalLabels: Labels.fromStrings('ext', '1') });
    const err = await frames(s, { matchers: [{ type: 0, name: 'ext', value: '1' }] }).catch((e: unknown) => e);
    expect((err as StoreError).grpcCode).toBe(GrpcCode.InvalidArgument);
    // A conflicting external-label matcher is simply no data, not an error.
    expect(await frames(s, { matchers: [{ type: 0, name: 'ext', value: '2' }] })).toEqual([]);
  });

  test('response_batch_size packs series into batch frames and flushes the rest', async () => {
    const s = new LocalStore({ queryable: new MemChunkQueryable(data) });
    const out = await frames(s, { responseBatchSize: 4 });
    expect(out.map((f) => (f.kind === 'batch' ? f.batch.length : f.kind))).toEqual([4, 4, 2]);
    expect((await frames(s, { responseBatchSize: 1 })).every((f) => f.kind === 'series')).toBe(true);
  });

  test('storage warnings come before the series, and querier errors are Internal StoreErrors', async () => {
    const warned: ChunkQueryable = {
      chunkQuerier: async (mint, maxt) => {
        const q = await new MemChunkQueryable(data).chunkQuerier(mint, maxt);
        return {
          ...q,
          select: async (...args) => {
            const set = await q.select(...args);
            return { next: () => set.next(), at: () => set.at(), err: () => set.err(), warnings: () => ['storage is slow'] };
          },
        };
      },
    };
    const out = await frames(new LocalStore({ queryable: warned }), { responseBatchSize: 64 });
    expect(out.map((f) => f.kind)).toEqual(['warning', 'batch']);
    let closed = false;
    const failing: ChunkQueryable = {
      chunkQuerier: () =>
        Promise.resolve({
          select: () => Promise.reject(new Error('disk on fire')),
          labelNames: () => Promise.reject(new Error('x')),
          labelValues: () => Promise.reject(new Error('x')),
          close: () => ((closed = true), Promise.resolve()),
        }),
    };
    const err = await frames(new LocalStore({ queryable: failing }), {}).catch((e: unknown) => e);
    expect((err as StoreError).grpcCode).toBe(GrpcCode.Internal);
    expect((err as Error).message).toMatch(/select series: disk on fire/);
    expect(closed).toBe(true);
  });

  test('chunks are passed through as stored bytes (same views, no re-encoding)', async () => {
    const q = new MemChunkQueryable(data);
    const direct = await q.chunkQuerier(0, 5000);
    const set = await direct.select(true, undefined, [new Matcher(MatchType.Equal, 'i', '3')]);
    set.next();
    const stored = [...set.at().chunks()][0]!.chunk.bytes();
    const out = await frames(new LocalStore({ queryable: q }), { matchers: [{ type: 0, name: 'i', value: '3' }] });
    const sent = out[0]!.kind === 'series' ? out[0]!.series.chunks[0]!.raw!.data : undefined;
    expect(sent?.buffer).toBe(stored.buffer);
    expect(sent?.byteOffset).toBe(stored.byteOffset);
    expect(sent?.length).toBe(stored.length);
  });
});

describe('inProcessClient', () => {
  test('the server runs at most maxBufferedFrames ahead and is aborted when the consumer stops', async () => {
    let sent = 0;
    let aborted = false;
    const server: StoreServer = {
      info: () => Promise.resolve({ labelSets: [], componentType: 'debug' }),
      labelNames: () => Promise.resolve({ names: [], warnings: [] }),
      labelValues: () => Promise.resolve({ values: [], warnings: [] }),
      async series(_req, sink, signal) {
        signal.addEventListener('abort', () => (aborted = true));
        for (let i = 0; i < 10_000; i++) {
          const p = sink.send({ kind: 'warning', warning: String(i) });
          sent++;
          if (p !== undefined) await p;
        }
      },
    };
    const client = inProcessClient(server, 'x', { maxBufferedFrames: 16 });
    let received = 0;
    for await (const batch of client.series({ minTime: 0, maxTime: 1, matchers: [] })) {
      received += batch.length;
      expect(sent - received).toBeLessThanOrEqual(16);
      if (received >= 100) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(aborted).toBe(true);
    expect(sent).toBeLessThan(200);
  });
});

describe('LocalStore sharding and chunk hashes', () => {
  const many = Array.from({ length: 200 }, (_, i) => ({ labels: Labels.fromStrings('__name__', 'm', 'i', String(i), 'pod', `p${i % 7}`), samples: [[1000, i] as const] }));
  const store = new LocalStore({ queryable: new MemChunkQueryable(many), externalLabels: Labels.fromStrings('cluster', 'c1') });
  const names = (out: SeriesResponse[]) => out.map((f) => (f.kind === 'series' ? f.series.labels.toString() : f.kind));

  test.each([
    ['without no labels', false, [] as string[]],
    ['by pod', true, ['pod']],
    ['without i', false, ['i']],
  ])('shards %s partition the series', async (_n, by, labels) => {
    const all = names(await frames(store, {}));
    const parts: string[][] = [];
    for (let k = 0; k < 3; k++) parts.push(names(await frames(store, { shardInfo: { shardIndex: k, totalShards: 3, by, labels } })));
    expect(parts.flat().sort()).toEqual([...all].sort());
    for (const p of parts) expect(p.length).toBeGreaterThan(0);
    if (by) {
      // Grouping by pod: every pod's series land in one shard.
      for (const p of parts) for (const q of parts) if (p !== q) for (const s of p) expect(q.some((x) => x.match(/pod="p\d"/)![0] === s.match(/pod="p\d"/)![0])).toBe(false);
    }
  });

  test('the shard of a series is xxHash64(name 0xFF value 0xFF …) mod total, as Thanos computes it', async () => {
    // cespare/xxhash of "__name__\xffup\xffjob\xffapi\xff" (testdata fixture of pkg/storepb) is 0x27967ec87265eaef.
    const h = 0x27967ec87265eaefn;
    const s = new LocalStore({ queryable: new MemChunkQueryable([{ labels: Labels.fromStrings('__name__', 'up', 'job', 'api'), samples: [[1, 1]] }]) });
    for (const total of [2, 3, 5, 7, 1000]) {
      const want = Number(h % BigInt(total));
      for (const k of [want, (want + 1) % total]) {
        const out = await frames(s, { matchers: [{ type: 0, name: '__name__', value: 'up' }], shardInfo: { shardIndex: k, totalShards: total, by: false, labels: [] } });
        expect(out.length).toBe(k === want ? 1 : 0);
      }
    }
  });

  test('chunks carry their xxHash64, or 0 when disabled', async () => {
    const q = new MemChunkQueryable(data);
    const withHash = await frames(new LocalStore({ queryable: q }), { matchers: [{ type: 0, name: 'i', value: '1' }] });
    const c = withHash[0]!.kind === 'series' ? withHash[0]!.series.chunks[0]!.raw! : undefined;
    expect(c!.hashHi !== 0 || c!.hashLo !== 0).toBe(true);
    const without = await frames(new LocalStore({ queryable: q, chunkHashes: false }), { matchers: [{ type: 0, name: 'i', value: '1' }] });
    const d = without[0]!.kind === 'series' ? without[0]!.series.chunks[0]!.raw! : undefined;
    expect([d!.hashHi, d!.hashLo]).toEqual([0, 0]);
  });
});
