import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import type { InfoResponse, LabelNamesResponse, LabelValuesResponse, SeriesRequest, SeriesResponse, StoreSeries } from '../storepb/index.js';
import { waitFor } from '../testutil/index.js';
import { GrpcStoreClient } from './grpc-client.js';
import { StoreGrpcServer } from './grpc-server.js';
import { healthService, storeService } from './grpc-services.js';
import { withLimits } from './limits.js';
import { LocalStore } from './local-store.js';
import { MemChunkQueryable } from './mem-chunk-queryable.js';
import type { SeriesSink, StoreServer } from './store-api.js';
import { GrpcCode, StoreError } from './store-error.js';

/** A StoreServer whose series() is scripted by the test. */
function scripted(series: (req: SeriesRequest, sink: SeriesSink, signal: AbortSignal) => Promise<void>): StoreServer {
  const info: InfoResponse = { labelSets: [Labels.fromStrings('ext', '1')], componentType: 'sidecar', store: { minTime: 0, maxTime: 9223372036854775807 } };
  return {
    info: () => Promise.resolve(info),
    series,
    labelNames: (): Promise<LabelNamesResponse> => Promise.resolve({ names: ['a'], warnings: [] }),
    labelValues: (): Promise<LabelValuesResponse> => Promise.resolve({ values: ['v'], warnings: [] }),
  };
}

async function serve(store: StoreServer): Promise<{ client: GrpcStoreClient; address: string; stop: () => Promise<void> }> {
  const server = new StoreGrpcServer(store);
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  const client = new GrpcStoreClient(address);
  return {
    client,
    address,
    stop: async () => {
      client.close();
      await server.stop(1000);
    },
  };
}

const bigSeries = (i: number, bytes: number): StoreSeries => ({
  labels: Labels.fromStrings('__name__', 'big', 'i', String(i).padStart(6, '0')),
  chunks: [{ minTime: 0, maxTime: 1, raw: { type: 0, data: new Uint8Array(bytes).fill(i & 0xff), hashHi: 0, hashLo: 0 } }],
});

async function drain(it: AsyncIterable<SeriesResponse[]>): Promise<SeriesResponse[]> {
  const out: SeriesResponse[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

describe('gRPC transport', () => {
  test('back-pressure stops a fast server for a slow client, and breaking out cancels it', async () => {
    let sent = 0;
    let blocked = false;
    let aborted = false;
    const total = 5000;
    const srv = await serve(
      scripted(async (_req, sink, signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        for (let i = 0; i < total; i++) {
          const p = sink.send({ kind: 'series', series: bigSeries(i, 16 * 1024) });
          sent++;
          if (p !== undefined) {
            blocked = true;
            await p;
          }
        }
      }),
    );
    try {
      const it = srv.client.series({ minTime: 0, maxTime: 1, matchers: [] })[Symbol.asyncIterator]();
      const first = await it.next();
      expect(first.done).toBe(false);
      await waitFor('the server to block on back-pressure', () => Promise.resolve(blocked));
      const sentWhenBlocked = sent;
      expect(sentWhenBlocked).toBeLessThan(total);
      await it.return?.();
      await waitFor('the server to see the cancellation', () => Promise.resolve(aborted));
      expect(sent).toBeLessThan(total);
    } finally {
      await srv.stop();
    }
  });

  test('messages larger than the gRPC default 4 MiB pass both ways', async () => {
    const srv = await serve(
      scripted(async (req, sink) => {
        expect(req.matchers[0]!.value.length).toBe(5 * 1024 * 1024);
        await sink.send({ kind: 'series', series: bigSeries(1, 6 * 1024 * 1024) });
      }),
    );
    try {
      const frames = await drain(srv.client.series({ minTime: 0, maxTime: 1, matchers: [{ type: 0, name: 'x', value: 'v'.repeat(5 * 1024 * 1024) }] }));
      expect(frames).toHaveLength(1);
      expect(frames[0]!.kind === 'series' && frames[0]!.series.chunks[0]!.raw!.data.length).toBe(6 * 1024 * 1024);
    } finally {
      await srv.stop();
    }
  });

  test('a deadline becomes DEADLINE_EXCEEDED and the server sees the cancellation', async () => {
    let aborted = false;
    const srv = await serve(
      scripted(
        (_req, _sink, signal) =>
          new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              resolve();
            });
          }),
      ),
    );
    try {
      const err = await drain(srv.client.series({ minTime: 0, maxTime: 1, matchers: [] }, { timeoutMs: 200 })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).grpcCode).toBe(GrpcCode.DeadlineExceeded);
      await waitFor('the server to see the deadline', () => Promise.resolve(aborted));
    } finally {
      await srv.stop();
    }
  });

  test('an AbortSignal cancels the call with CANCELLED', async () => {
    const srv = await serve(scripted((_req, _sink, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()))));
    try {
      const ac = new AbortController();
      const p = drain(srv.client.series({ minTime: 0, maxTime: 1, matchers: [] }, { signal: ac.signal })).catch((e: unknown) => e);
      ac.abort();
      const err = await p;
      expect((err as StoreError).grpcCode).toBe(GrpcCode.Canceled);
    } finally {
      await srv.stop();
    }
  });

  test('server errors keep their gRPC code and message; warnings arrive in order', async () => {
    const srv = await serve(
      scripted(async (_req, sink) => {
        await sink.send({ kind: 'warning', warning: 'w1' });
        await sink.send({ kind: 'series', series: bigSeries(1, 3) });
        throw new StoreError(GrpcCode.InvalidArgument, 'bad request: nope');
      }),
    );
    try {
      const got: SeriesResponse[] = [];
      const err = await (async () => {
        for await (const b of srv.client.series({ minTime: 0, maxTime: 1, matchers: [] })) got.push(...b);
      })().catch((e: unknown) => e);
      expect(got.map((f) => f.kind)).toEqual(['warning', 'series']);
      expect((err as StoreError).grpcCode).toBe(GrpcCode.InvalidArgument);
      expect((err as StoreError).message).toContain('bad request: nope');
    } finally {
      await srv.stop();
    }
  });

  test('limits produce RESOURCE_EXHAUSTED with the limit in the message', async () => {
    const q = new MemChunkQueryable(
      Array.from({ length: 10 }, (_, i) => ({ labels: Labels.fromStrings('__name__', 'm', 'i', String(i)), samples: Array.from({ length: 100 }, (_, j) => [j * 1000, j] as const) })),
    );
    const local = new LocalStore({ queryable: q });
    for (const [limits, re] of [
      [{ maxSeries: 5 }, /exceeded series limit: limit 5 series per request/],
      [{ maxSamples: 250 }, /exceeded samples limit: limit 250 samples per request/],
      [{ maxBytes: 1000 }, /exceeded bytes limit: limit 1000 bytes per request/],
    ] as const) {
      const srv = await serve(withLimits(local, limits));
      try {
        const err = await drain(srv.client.series({ minTime: 0, maxTime: 1e6, matchers: [{ type: 0, name: '__name__', value: 'm' }] })).catch((e: unknown) => e);
        expect((err as StoreError).grpcCode).toBe(GrpcCode.ResourceExhausted);
        expect((err as Error).message).toMatch(re);
        // Under the limit the same request succeeds.
        const ok = await drain(srv.client.series({ minTime: 0, maxTime: 1e6, matchers: [{ type: 0, name: 'i', value: '1' }] }));
        expect(ok).toHaveLength(1);
      } finally {
        await srv.stop();
      }
    }
  });

  test('gzip request compression is accepted', async () => {
    const server = new StoreGrpcServer(scripted(async (req, sink) => void (await sink.send({ kind: 'warning', warning: req.matchers[0]!.value }))));
    const port = await server.listen('127.0.0.1:0');
    const client = new GrpcStoreClient(`127.0.0.1:${port}`, { compression: 'gzip' });
    try {
      const frames = await drain(client.series({ minTime: 0, maxTime: 1, matchers: [{ type: 0, name: 'x', value: 'y'.repeat(10000) }] }));
      expect(frames).toEqual([{ kind: 'warning', warning: 'y'.repeat(10000) }]);
    } finally {
      client.close();
      await server.stop(1000);
    }
  });
});

describe('wire compatibility with a protobufjs client (as a Thanos querier would call)', () => {
  const protoDir = join(fileURLToPath(import.meta.url), '../../../proto');
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => (target.startsWith('google/') ? target : join(protoDir, target));
  root.loadSync(['store/storepb/rpc.proto', 'info/infopb/rpc.proto']);
  const T = (n: string) => root.lookupType(n);
  let srv: Awaited<ReturnType<typeof serve>>;
  let raw: grpc.Client;

  beforeAll(async () => {
    const q = new MemChunkQueryable([
      { labels: Labels.fromStrings('__name__', 'up', 'job', 'a'), samples: [[1000, 1], [2000, 2]] },
      { labels: Labels.fromStrings('__name__', 'up', 'job', 'b'), samples: [[1000, 3]] },
    ]);
    srv = await serve(new LocalStore({ queryable: q, externalLabels: Labels.fromStrings('replica', 'r1'), componentType: 'sidecar', timeRange: () => q.timeRange() }));
    raw = new grpc.Client(srv.address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    raw.close();
    await srv.stop();
  });

  const enc = (type: string) => (o: object) => Buffer.from(T(type).encode(T(type).fromObject(o)).finish());
  const dec = (type: string) => (b: Buffer) => T(type).toObject(T(type).decode(b), { longs: String, bytes: Array, enums: String, defaults: false });

  test('/thanos.Store/Series answers protobufjs-encoded requests with decodable frames', async () => {
    const call = raw.makeServerStreamRequest('/thanos.Store/Series', enc('thanos.SeriesRequest'), dec('thanos.SeriesResponse'), {
      minTime: '0',
      maxTime: '9223372036854775807',
      matchers: [{ type: 'EQ', name: '__name__', value: 'up' }],
      withoutReplicaLabels: ['replica'],
      responseBatchSize: '64',
    });
    const frames: Record<string, unknown>[] = [];
    for await (const f of call) frames.push(f as Record<string, unknown>);
    expect(frames).toHaveLength(1);
    const batch = frames[0]!.batch as { series: { labels: unknown[]; chunks: { minTime: string; maxTime: string; raw: { data: number[] } }[] }[] };
    expect(batch.series.map((s) => s.labels)).toEqual([
      [{ name: '__name__', value: 'up' }, { name: 'job', value: 'a' }],
      [{ name: '__name__', value: 'up' }, { name: 'job', value: 'b' }],
    ]);
    expect(batch.series[0]!.chunks[0]!.minTime).toBe('1000');
    expect(batch.series[0]!.chunks[0]!.maxTime).toBe('2000');
    expect(batch.series[0]!.chunks[0]!.raw.data[1]).toBe(2); // XOR header: 2 samples
  });

  test('/thanos.info.Info/Info, legacy /thanos.Store/Info and health', async () => {
    const unary = <T>(path: string, reqType: string | null, resType: string) =>
      new Promise<T>((resolve, reject) =>
        raw.makeUnaryRequest(path, reqType ? enc(reqType) : () => Buffer.alloc(0), dec(resType) as (b: Buffer) => T, {}, (err, res) => (err ? reject(err) : resolve(res!))),
      );
    const info = await unary<Record<string, any>>('/thanos.info.Info/Info', 'thanos.info.InfoRequest', 'thanos.info.InfoResponse');
    expect(info.labelSets).toEqual([{ labels: [{ name: 'replica', value: 'r1' }] }]);
    expect(info.ComponentType).toBe('sidecar');
    expect(info.store).toMatchObject({ minTime: '1000', maxTime: '2000', supportsWithoutReplicaLabels: true });
    const legacy = await unary<Record<string, any>>('/thanos.Store/Info', 'thanos.InfoRequest', 'thanos.InfoResponse');
    expect(legacy).toMatchObject({ minTime: '1000', maxTime: '2000', storeType: 'SIDECAR', labels: [{ name: 'replica', value: 'r1' }] });
    const err = await unary('/thanos.Store/LabelValues', 'thanos.LabelValuesRequest', 'thanos.LabelValuesResponse').catch((e: unknown) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    const lv = await new Promise<Record<string, unknown>>((resolve, reject) =>
      raw.makeUnaryRequest('/thanos.Store/LabelValues', enc('thanos.LabelValuesRequest'), dec('thanos.LabelValuesResponse') as (b: Buffer) => Record<string, unknown>, { label: 'job', start: '0', end: '5000' }, (e, r) => (e ? reject(e) : resolve(r!))),
    );
    expect(lv).toEqual({ values: ['a', 'b'] });
  }, 10_000);

  test('health check answers SERVING', async () => {
    const res = await new Promise<{ serving: boolean }>((resolve, reject) =>
      raw.makeUnaryRequest(healthService.Check.path, () => Buffer.alloc(0), healthService.Check.responseDeserialize, {}, (err, r) => (err ? reject(err) : resolve(r!))),
    );
    expect(res.serving).toBe(true);
    expect(storeService.Series.path).toBe('/thanos.Store/Series');
  });
});
