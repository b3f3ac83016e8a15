import { describe, expect, test } from 'vitest';
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
