import assert from 'node:assert/strict';
import { ValueType, XorChunk } from '../chunkenc/index.js';
import { Labels, compareStrings } from '../labels/index.js';
import type { LabelMatcher, SeriesRequest, SeriesResponse, StoreSeries } from '../storepb/index.js';
import type { MemSeries } from './mem-chunk-queryable.js';
import type { StoreClient } from './store-api.js';

/**
 * The StoreAPI acceptance suite (in the spirit of Thanos's testStoreAPIsAcceptance): every
 * StoreServer implementation (local, gRPC, proxy, sidecar, ruler, bucket store…) loads the same
 * series and must answer the same Series / LabelNames / LabelValues / Info questions. It uses
 * node:assert and takes the test runner's functions as an argument, so production code can
 * export it without importing a test framework.
 */

/** AcceptanceTestApi is the subset of vitest (or node:test) the suite needs. */
export interface AcceptanceTestApi {
  describe(name: string, fn: () => void): void;
  test(name: string, fn: () => Promise<void>): void;
  beforeAll(fn: () => Promise<void>): void;
  afterAll(fn: () => Promise<void>): void;
}

/** StoreUnderTest is a started implementation holding the acceptance series. */
export interface StoreUnderTest {
  readonly client: StoreClient;
  close(): Promise<void>;
}

/**
 * StartStore loads `series` into the implementation (with `externalLabels` as its external
 * labels) and returns a client for it. Samples are floats at millisecond timestamps.
 */
export type StartStore = (data: { series: readonly MemSeries[]; externalLabels: Labels }) => Promise<StoreUnderTest>;

const STEP = 15_000;
const N = 400; // 100 minutes at 15 s: several chunks per series.
const ts = (i: number) => 1_000_000 + i * STEP;
const END = ts(N - 1);

function samples(n: number, f: (i: number) => number, from = 0): [number, number][] {
  const out: [number, number][] = [];
  for (let i = from; i < from + n; i++) out.push([ts(i), f(i)]);
  return out;
}

/** acceptanceSeries is the data set of the suite; ext is the external label set. */
export const acceptanceSeries: readonly MemSeries[] = [
  { labels: Labels.fromStrings('__name__', 'up', 'job', 'api', 'instance', 'a'), samples: samples(N, (i) => i) },
  { labels: Labels.fromStrings('__name__', 'up', 'job', 'api', 'instance', 'b'), samples: samples(N, (i) => 2 * i) },
  { labels: Labels.fromStrings('__name__', 'up', 'job', 'db', 'instance', 'a'), samples: samples(N, (i) => i % 2) },
  { labels: Labels.fromStrings('__name__', 'http_requests_total', 'job', 'api', 'instance', 'a', 'code', '200'), samples: samples(N, (i) => i * 10) },
  { labels: Labels.fromStrings('__name__', 'http_requests_total', 'job', 'api', 'instance', 'a', 'code', '500'), samples: samples(N, (i) => i) },
  // A label-set prefix of the next one: appending the external label reverses their order.
  { labels: Labels.fromStrings('__name__', 'prefix', 'a', '1'), samples: samples(50, (i) => i) },
  { labels: Labels.fromStrings('__name__', 'prefix', 'a', '1', 'b', '2'), samples: samples(50, (i) => -i) },
  // Has the external label's name: the external value wins.
  { labels: Labels.fromStrings('__name__', 'override', 'region', 'us-east'), samples: samples(20, (i) => i) },
  // Only early data, with a label nobody else has.
  { labels: Labels.fromStrings('__name__', 'old', 'legacy', 'yes'), samples: samples(10, (i) => i) },
  // Non-ASCII values sort by UTF-8 bytes.
  { labels: Labels.fromStrings('__name__', 'utf8', 'name', 'é'), samples: samples(5, (i) => i) },
  { labels: Labels.fromStrings('__name__', 'utf8', 'name', 'z'), samples: samples(5, (i) => i) },
];

const EXT = Labels.fromStrings('region', 'eu-west');

const eq = (name: string, value: string): LabelMatcher => ({ type: 0, name, value });
const neq = (name: string, value: string): LabelMatcher => ({ type: 1, name, value });
const re = (name: string, value: string): LabelMatcher => ({ type: 2, name, value });
const nre = (name: string, value: string): LabelMatcher => ({ type: 3, name, value });

interface Collected {
  readonly series: { labels: string; samples: [number, number][]; chunks: number; outside: number }[];
  readonly warnings: string[];
}

/** Reads a Series stream fully, merging consecutive frames of one series and decoding XOR chunks. */
async function collect(client: StoreClient, req: SeriesRequest): Promise<Collected> {
  const frames: StoreSeries[] = [];
  const warnings: string[] = [];
  for await (const batch of client.series(req)) {
    for (const f of batch as SeriesResponse[]) {
      if (f.kind === 'series') frames.push(f.series);
      else if (f.kind === 'batch') frames.push(...f.batch);
      else if (f.kind === 'warning') warnings.push(f.warning);
    }
  }
  const out: Collected['series'] = [];
  let prev: Labels | undefined;
  for (const s of frames) {
    if (prev !== undefined) assert.ok(Labels.compare(prev, s.labels) <= 0, `series out of order: ${prev.toString()} before ${s.labels.toString()}`);
    if (prev === undefined || !prev.equals(s.labels)) out.push({ labels: s.labels.toString(), samples: [], chunks: 0, outside: 0 });
    prev = s.labels;
    const cur = out[out.length - 1]!;
    for (const c of s.chunks) {
      cur.chunks++;
      if (c.maxTime < req.minTime || c.minTime > req.maxTime) cur.outside++;
      assert.ok(c.raw !== undefined, 'raw chunk expected');
      assert.equal(c.raw.type, 0, 'XOR chunk expected');
      const it = XorChunk.fromBytes(c.raw.data).iterator();
      while (it.next() !== ValueType.None) {
        const t = it.atT();
        if (t >= req.minTime && t <= req.maxTime) cur.samples.push([t, it.atF()]);
      }
      assert.equal(it.err(), null);
    }
  }
  for (const s of out) {
    s.samples.sort((a, b) => a[0] - b[0]);
    // Identical chunks from several sources must have been deduplicated: no repeated timestamps.
    for (let i = 1; i < s.samples.length; i++) assert.notEqual(s.samples[i]![0], s.samples[i - 1]![0], `duplicate sample at ${s.samples[i]![0]} in ${s.labels}`);
  }
  return { series: out, warnings };
}

/** The expected answer computed from the input data. */
function expected(matchers: readonly LabelMatcher[], mint: number, maxt: number, drop: readonly string[] = []): { labels: string; samples: [number, number][] }[] {
  const res: { labels: Labels; samples: [number, number][] }[] = [];
  for (const s of acceptanceSeries) {
    const b = s.labels.builder();
    EXT.forEach((n, v) => b.set(n, v));
    const full = b.labels();
    const ok = matchers.every((m) => {
      const v = full.get(m.name);
      switch (m.type) {
        case 0:
          return v === m.value;
        case 1:
          return v !== m.value;
        case 2:
          return new RegExp(`^(?:${m.value})$`, 's').test(v);
        case 3:
          return !new RegExp(`^(?:${m.value})$`, 's').test(v);
      }
    });
    if (!ok) continue;
    // A series is only returned when it has data overlapping the range; its chunks may carry
    // samples outside, so compare only samples within [mint, maxt].
    const first = s.samples[0]![0];
    const last = s.samples[s.samples.length - 1]![0];
    if (last < mint || first > maxt) continue;
    res.push({ labels: full.without(drop), samples: s.samples.filter(([t]) => t >= mint && t <= maxt).map(([t, v]) => [t, v]) });
  }
  res.sort((a, b) => Labels.compare(a.labels, b.labels));
  return res.map((r) => ({ labels: r.labels.toString(), samples: r.samples }));
}

function namesOf(c: Collected): string[] {
  return c.series.map((s) => s.labels);
}

/**
 * storeAPIAcceptanceSuite registers the suite for one implementation. `api` passes the runner's
 * describe/test/beforeAll/afterAll (e.g. from vitest).
 */
export function storeAPIAcceptanceSuite(api: AcceptanceTestApi, name: string, startStore: StartStore): void {
  api.describe(`StoreAPI acceptance: ${name}`, () => {
    let store: StoreUnderTest | undefined;
    const client = (): StoreClient => {
      if (store === undefined) throw new Error('store not started');
      return store.client;
    };
    api.beforeAll(async () => {
      store = await startStore({ series: acceptanceSeries, externalLabels: EXT });
    });
    api.afterAll(async () => {
      await store?.close();
    });

    api.test('Info advertises the external labels and the data time range', async () => {
      const info = await client().info();
      assert.deepEqual(info.labelSets.map((l) => l.toString()), [EXT.toString()]);
      assert.ok(info.store !== undefined, 'store info expected');
      assert.ok(info.store.minTime <= ts(0), `minTime ${info.store.minTime} after first sample`);
      assert.ok(info.store.maxTime >= END, `maxTime ${info.store.maxTime} before last sample`);
    });

    const cases: [string, LabelMatcher[], number, number][] = [
      ['= on the metric name', [eq('__name__', 'up')], 0, END],
      ['= on two labels', [eq('__name__', 'up'), eq('instance', 'a')], 0, END],
      ['!=', [eq('__name__', 'up'), neq('job', 'api')], 0, END],
      ['=~', [re('__name__', 'up|http_.*'), re('job', 'a.+')], 0, END],
      ['!~', [re('__name__', '.+'), nre('instance', 'a|b')], 0, END],
      ['= "" matches series without the label', [eq('__name__', 'http_requests_total'), eq('code', '')], 0, END],
      ['=~ ".+" requires the label', [re('code', '.+')], 0, END],
      ['!= "" on a label', [neq('legacy', '')], 0, END],
      ['regexp is anchored', [re('__name__', 'u')], 0, END],
      ['matching the external label', [eq('region', 'eu-west'), eq('__name__', 'up')], 0, END],
      ['regexp on the external label', [re('region', 'eu-.*'), eq('job', 'db')], 0, END],
      ['not matching the external label', [eq('region', 'us-east'), eq('__name__', 'up')], 0, END],
      ['external label overrides the series label', [eq('__name__', 'override')], 0, END],
      ['sorted by final labels (prefix series)', [eq('__name__', 'prefix')], 0, END],
      ['UTF-8 values', [eq('__name__', 'utf8')], 0, END],
      ['no match', [eq('__name__', 'nope')], 0, END],
      ['inner time range', [eq('__name__', 'up')], ts(100), ts(250)],
      ['time range excludes early series', [re('__name__', '.+')], ts(60), END],
      ['time range before all data', [re('__name__', '.+')], 0, ts(0) - 1],
      ['single timestamp', [eq('__name__', 'up'), eq('job', 'db')], ts(123), ts(123)],
      ['range ending at the first sample', [eq('__name__', 'old')], 0, ts(0)],
      ['range starting at the last sample', [eq('__name__', 'old')], ts(9), END],
    ];
    for (const [title, matchers, mint, maxt] of cases) {
      api.test(`Series: ${title}`, async () => {
        const got = await collect(client(), { minTime: mint, maxTime: maxt, matchers });
        assert.deepEqual(got.warnings, []);
        assert.deepEqual(
          got.series.map((s) => ({ labels: s.labels, samples: s.samples })),
          expected(matchers, mint, maxt),
        );
        for (const s of got.series) assert.equal(s.outside, 0, `${s.labels} has chunks outside [${mint}, ${maxt}]`);
      });
    }

    api.test('Series: every chunk boundary is served exactly once', async () => {
      const m = [eq('__name__', 'up'), eq('job', 'api'), eq('instance', 'b')];
      // Walk the data in windows of 7 samples; concatenating all windows yields every sample once.
      const all: [number, number][] = [];
      for (let i = 0; i < N; i += 7) {
        const got = await collect(client(), { minTime: ts(i), maxTime: Math.min(ts(i + 6), END), matchers: m });
        assert.equal(got.series.length, 1);
        all.push(...got.series[0]!.samples);
      }
      assert.deepEqual(all, expected(m, 0, END)[0]!.samples);
    });

    api.test('Series: skip_chunks returns labels only', async () => {
      const m = [re('__name__', 'up|http_requests_total')];
      const got = await collect(client(), { minTime: 0, maxTime: END, matchers: m, skipChunks: true });
      assert.deepEqual(namesOf(got), expected(m, 0, END).map((e) => e.labels));
      for (const s of got.series) assert.equal(s.chunks, 0);
    });

    api.test('Series: without_replica_labels drops the external label and keeps the order', async () => {
      const m = [re('__name__', 'prefix|up|override')];
      const got = await collect(client(), { minTime: 0, maxTime: END, matchers: m, withoutReplicaLabels: ['region'] });
      assert.deepEqual(
        got.series.map((s) => ({ labels: s.labels, samples: s.samples })),
        expected(m, 0, END, ['region']),
      );
    });

    api.test('Series: response_batch_size packs series without changing the answer', async () => {
      const m = [re('__name__', '.+')];
      const got = await collect(client(), { minTime: 0, maxTime: END, matchers: m, responseBatchSize: 3 });
      assert.deepEqual(
        got.series.map((s) => ({ labels: s.labels, samples: s.samples })),
        expected(m, 0, END),
      );
    });

    api.test('Series: limit returns the first series', async () => {
      const m = [eq('__name__', 'up')];
      const got = await collect(client(), { minTime: 0, maxTime: END, matchers: m, limit: 2 });
      assert.deepEqual(namesOf(got), expected(m, 0, END).slice(0, 2).map((e) => e.labels));
    });

    api.test('Series: an invalid regexp is an error', async () => {
      await assert.rejects(collect(client(), { minTime: 0, maxTime: END, matchers: [re('__name__', '(')], partialResponseStrategy: 1 }), /regexp|parse|matcher/i);
    });

    const allNames = (mint = 0, maxt = END) => {
      const s = new Set<string>(EXT.names());
      for (const x of acceptanceSeries) {
        if (x.samples[0]![0] > maxt || x.samples[x.samples.length - 1]![0] < mint) continue;
        x.labels.forEach((n) => s.add(n));
      }
      return [...s].sort(compareStrings);
    };

    api.test('LabelNames: all, including external labels', async () => {
      const res = await client().labelNames({ start: 0, end: END });
      assert.deepEqual([...res.names], allNames());
      assert.deepEqual([...res.warnings], []);
    });

    api.test('LabelNames: time range excludes labels of early series', async () => {
      const res = await client().labelNames({ start: ts(60), end: END });
      const want = allNames(ts(60), END);
      assert.ok(!want.includes('legacy') && !want.includes('a'));
      assert.deepEqual([...res.names], want);
    });

    api.test('LabelNames: with matchers', async () => {
      const res = await client().labelNames({ start: 0, end: END, matchers: [eq('__name__', 'http_requests_total')] });
      assert.deepEqual([...res.names], ['__name__', 'code', 'instance', 'job', 'region']);
      const none = await client().labelNames({ start: 0, end: END, matchers: [eq('region', 'us-east')] });
      assert.deepEqual([...none.names], []);
    });

    api.test('LabelValues: all values of a label', async () => {
      const res = await client().labelValues({ label: 'job', start: 0, end: END });
      assert.deepEqual([...res.values], ['api', 'db']);
      const names = await client().labelValues({ label: '__name__', start: 0, end: END });
      assert.deepEqual([...names.values], ['http_requests_total', 'old', 'override', 'prefix', 'up', 'utf8']);
      const utf8 = await client().labelValues({ label: 'name', start: 0, end: END });
      assert.deepEqual([...utf8.values], ['z', 'é']);
    });

    api.test('LabelValues: with matchers and time range', async () => {
      const res = await client().labelValues({ label: 'instance', start: 0, end: END, matchers: [eq('job', 'db')] });
      assert.deepEqual([...res.values], ['a']);
      const early = await client().labelValues({ label: 'legacy', start: ts(60), end: END });
      assert.deepEqual([...early.values], []);
      const inRange = await client().labelValues({ label: 'legacy', start: 0, end: ts(5) });
      assert.deepEqual([...inRange.values], ['yes']);
    });

    api.test('LabelValues: external label', async () => {
      const res = await client().labelValues({ label: 'region', start: 0, end: END });
      assert.deepEqual([...res.values], ['eu-west']);
      const conflicting = await client().labelValues({ label: 'job', start: 0, end: END, matchers: [eq('region', 'us-east')] });
      assert.deepEqual([...conflicting.values], []);
    });
  });
}
