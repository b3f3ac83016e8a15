import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Labels, Matcher, MatchType } from '../labels/index.js';
import type { AggrChunk, InfoResponse, LabelNamesResponse, LabelValuesResponse, SeriesRequest, SeriesResponse } from '../storepb/index.js';
import { inProcessClient } from './inprocess.js';
import { LocalStore } from './local-store.js';
import { labelSetsMatch, storeMatches } from './matchers.js';
import { MemChunkQueryable } from './mem-chunk-queryable.js';
import { ProxyStore, dedupChunks, type ProxyTarget } from './proxy-store.js';
import type { SeriesSink, StoreClient, StoreServer } from './store-api.js';
import { GrpcCode, StoreError } from './store-error.js';

const L = (...nv: string[]) => Labels.fromStrings(...nv);
const m = (name: string, value: string, type: MatchType = MatchType.Equal) => new Matcher(type, name, value);

describe('store selection', () => {
  test.each([
    ['no label sets always match', [m('a', 'x')], [], true],
    ['set without the label never conflicts', [m('a', 'x')], [L('b', '1')], true],
    ['conflicting value', [m('a', 'x')], [L('a', 'y')], false],
    ['one of several sets matches', [m('a', 'x')], [L('a', 'y'), L('a', 'x')], true],
    ['regexp on the set label', [m('a', 'x|y', MatchType.Regexp)], [L('a', 'y')], true],
    ['!= on the set label', [m('a', 'y', MatchType.NotEqual)], [L('a', 'y')], false],
  ] as const)('%s', (_n, matchers, sets, want) => {
    expect(labelSetsMatch(matchers, sets)).toBe(want);
  });

  test.each([
    [0, 10, true],
    [10, 20, true],
    [11, 20, false],
    [-5, -1, false],
    [-5, 0, true],
  ])('time range [%d, %d] against [0, 10]', (mint, maxt, want) => {
    expect(storeMatches({ minTime: 0, maxTime: 10, labelSets: [] }, mint, maxt, [])).toBe(want);
  });
});

function scripted(name: string, frames: SeriesResponse[] | ((req: SeriesRequest, sink: SeriesSink, signal: AbortSignal) => Promise<void>), calls?: string[]): StoreClient {
  const server: StoreServer = {
    info: (): Promise<InfoResponse> => Promise.resolve({ labelSets: [], componentType: 'debug' }),
    series: async (req, sink, signal) => {
      calls?.push(name);
      if (typeof frames === 'function') return frames(req, sink, signal);
      for (const f of frames) await sink.send(f);
    },
    labelNames: (): Promise<LabelNamesResponse> => Promise.resolve({ names: [name], warnings: [] }),
    labelValues: (): Promise<LabelValuesResponse> => {
      if (name === 'broken') return Promise.reject(new StoreError(GrpcCode.Unavailable, 'store is down'));
      return Promise.resolve({ values: [name], warnings: [] });
    },
  };
  return inProcessClient(server, name);
}

const chunk = (min: number, max: number, byte: number): AggrChunk => ({ minTime: min, maxTime: max, raw: { type: 0, data: Uint8Array.of(0, 1, byte), hashHi: 0, hashLo: 0 } });
const ser = (ls: Labels, ...chunks: AggrChunk[]): SeriesResponse => ({ kind: 'series', series: { labels: ls, chunks } });
const tgt = (client: StoreClient, over: Partial<ProxyTarget> = {}): ProxyTarget => ({ client, labelSets: [], minTime: -Infinity, maxTime: Infinity, ...over });

async function run(proxy: ProxyStore, req: Partial<SeriesRequest> = {}): Promise<SeriesResponse[]> {
  const out: SeriesResponse[] = [];
  await proxy.series({ minTime: 0, maxTime: 100, matchers: [{ type: 0, name: '__name__', value: 'x' }], ...req }, { send: (r) => void out.push(r) }, new AbortController().signal);
  return out;
}

describe('ProxyStore', () => {
  test('merges sorted streams, concatenates equal series and drops identical chunks', async () => {
    const a = scripted('a', [ser(L('s', '1'), chunk(0, 10, 1), chunk(11, 20, 2)), ser(L('s', '3'), chunk(0, 10, 3))]);
    const b = scripted('b', [ser(L('s', '1'), chunk(0, 10, 1), chunk(21, 30, 4)), ser(L('s', '2'), chunk(0, 10, 5))]);
    const out = await run(new ProxyStore({ targets: () => [tgt(a), tgt(b)] }));
    expect(out.map((f) => f.kind === 'series' && f.series.labels.toString())).toEqual(['{s="1"}', '{s="2"}', '{s="3"}']);
    const s1 = out[0]!.kind === 'series' ? out[0]!.series : undefined;
    expect(s1!.chunks.map((c) => [c.minTime, c.raw!.data[2]])).toEqual([
      [0, 1],
      [11, 2],
      [21, 4],
    ]);
  });

  test('asks stores for batched frames (64 series, as Thanos) unless the caller chose a batch size', async () => {
    const sizes: (number | undefined)[] = [];
    const a = scripted('a', async (req, sink) => {
      sizes.push(req.responseBatchSize);
      await sink.send({ kind: 'batch', batch: [{ labels: L('s', '1'), chunks: [chunk(0, 10, 1)] }, { labels: L('s', '2'), chunks: [chunk(0, 10, 2)] }] });
    });
    const proxy = new ProxyStore({ targets: () => [tgt(a)] });
    const out = await run(proxy);
    expect(out.map((f) => f.kind === 'series' && f.series.labels.toString())).toEqual(['{s="1"}', '{s="2"}']);
    await run(proxy, { responseBatchSize: 5 });
    expect(sizes).toEqual([64, 5]);
  });

  test('k-way merge of random sorted streams equals the sorted union', async () => {
    const labelSet = fc.integer({ min: 0, max: 40 }).map((i) => L('__name__', 'x', 'i', String(i)));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uniqueArray(labelSet, { selector: (l) => l.key(), maxLength: 15 }), { minLength: 1, maxLength: 6 }), async (stores) => {
        const targets = stores.map((sets, i) => tgt(scripted(`s${i}`, [...sets].sort(Labels.compare).map((ls) => ser(ls, chunk(i, i, i))))));
        const out = await run(new ProxyStore({ targets: () => targets }), { responseBatchSize: 4 });
        const got = out.flatMap((f) => (f.kind === 'batch' ? f.batch : f.kind === 'series' ? [f.series] : []));
        const want = new Map<string, Labels>();
        for (const sets of stores) for (const ls of sets) want.set(ls.key(), ls);
        expect(got.map((s) => s.labels.toString())).toEqual([...want.values()].sort(Labels.compare).map(String));
        for (const s of got) expect(s.chunks.length).toBe(stores.filter((sets) => sets.some((l) => l.equals(s.labels))).length);
      }),
      { numRuns: 60 },
    );
  });

  test('only stores overlapping the time range and matching external labels are asked', async () => {
    const calls: string[] = [];
    const mk = (n: string) => scripted(n, [ser(L('__name__', 'x', 'from', n))], calls);
    const proxy = new ProxyStore({
      targets: () => [
        tgt(mk('old'), { minTime: 0, maxTime: 5 }),
        tgt(mk('eu'), { labelSets: [L('region', 'eu')] }),
        tgt(mk('us'), { labelSets: [L('region', 'us')] }),
      ],
    });
    await run(proxy, { minTime: 10, maxTime: 20, matchers: [{ type: 0, name: '__name__', value: 'x' }, { type: 0, name: 'region', value: 'eu' }] });
    expect(calls).toEqual(['eu']);
  });

  test('a failing store is a warning under WARN and an error under ABORT', async () => {
    const ok = scripted('ok', [ser(L('a', '1'))]);
    const bad = scripted('bad', async () => {
      throw new StoreError(GrpcCode.Unavailable, 'connection refused');
    });
    const proxy = new ProxyStore({ targets: () => [tgt(ok), tgt(bad)] });
    const out = await run(proxy);
    expect(out.map((f) => f.kind)).toEqual(['warning', 'series']);
    expect(out[0]!.kind === 'warning' && out[0]!.warning).toMatch(/receive series from store bad: .*connection refused/);
    const err = await run(proxy, { partialResponseStrategy: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).grpcCode).toBe(GrpcCode.Unavailable);
    expect((err as Error).message).toMatch(/store bad/);
  });

  test('store warnings are forwarded under WARN and fail the request under ABORT', async () => {
    const s = scripted('w', [{ kind: 'warning', warning: 'partial data' }, ser(L('a', '1'))]);
    const proxy = new ProxyStore({ targets: () => [tgt(s)] });
    expect((await run(proxy)).map((f) => (f.kind === 'warning' ? f.warning : f.kind))).toEqual(['partial data', 'series']);
    const err = await run(proxy, { partialResponseDisabled: true }).catch((e: unknown) => e);
    expect((err as StoreError).grpcCode).toBe(GrpcCode.Aborted);
  });

  test('a store that stops answering times out into a warning and is cancelled', async () => {
    let cancelled = false;
    const hung = scripted('hung', (_req, _sink, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => ((cancelled = true), resolve()))));
    const ok = scripted('ok', [ser(L('a', '1'))]);
    const out = await run(new ProxyStore({ targets: () => [tgt(ok), tgt(hung)], responseTimeoutMs: 100 }));
    expect(out.map((f) => f.kind)).toEqual(['warning', 'series']);
    expect(out[0]!.kind === 'warning' && out[0]!.warning).toMatch(/store hung: no response within 100ms/);
    expect(cancelled).toBe(true);
  });

  test('strips replica labels itself for stores that cannot, re-sorting their series', async () => {
    const frames = [ser(L('a', '1', 'replica', 'x'), chunk(0, 1, 1)), ser(L('a', '1', 'b', '0', 'replica', 'x'), chunk(0, 1, 2))];
    frames.sort((x, y) => (x.kind === 'series' && y.kind === 'series' ? Labels.compare(x.series.labels, y.series.labels) : 0));
    const s = scripted('old', frames);
    const out = await run(new ProxyStore({ targets: () => [tgt(s, { supportsWithoutReplicaLabels: false })] }), { withoutReplicaLabels: ['replica'] });
    expect(out.map((f) => f.kind === 'series' && f.series.labels.toString())).toEqual(['{a="1"}', '{a="1", b="0"}']);
  });

  test('label values fan out, merge and report failures per strategy', async () => {
    const proxy = new ProxyStore({ targets: () => [tgt(scripted('b', [])), tgt(scripted('a', [])), tgt(scripted('broken', []))] });
    const res = await proxy.labelValues({ label: 'x', start: 0, end: 1 }, new AbortController().signal);
    expect(res.values).toEqual(['a', 'b']);
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings[0]).toMatch(/store broken: .*store is down/);
    await expect(proxy.labelValues({ label: 'x', start: 0, end: 1, partialResponseStrategy: 1 }, new AbortController().signal)).rejects.toMatchObject({ grpcCode: GrpcCode.Aborted });
  });

  test('stops reading stores once the limit is reached', async () => {
    const a = inProcessClient(
      new LocalStore({ queryable: new MemChunkQueryable(Array.from({ length: 50 }, (_, i) => ({ labels: L('__name__', 'x', 'i', String(i).padStart(2, '0')), samples: [[1, i]] as const }))) }),
      'a',
    );
    const out = await run(new ProxyStore({ targets: () => [tgt(a)] }), { limit: 3 });
    expect(out.map((f) => f.kind === 'series' && f.series.labels.get('i'))).toEqual(['00', '01', '02']);
  });
});

describe('dedupChunks', () => {
  test('drops only byte-identical chunks with the same time range', () => {
    const c = (min: number, max: number, b: number) => chunk(min, max, b);
    const out = dedupChunks([c(10, 20, 1), c(0, 9, 1), c(10, 20, 2), c(10, 20, 1), c(0, 9, 1), c(10, 21, 1)]);
    expect(out.map((x) => [x.minTime, x.maxTime, x.raw!.data[2]])).toEqual([
      [0, 9, 1],
      [10, 20, 1],
      [10, 20, 2],
      [10, 21, 1],
    ]);
  });
});

