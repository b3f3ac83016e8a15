import { describe, expect, test } from 'vitest';
import { ChunkCutter, Encoding, ValueType, floatBits, isStaleNaN, staleNaN } from '../../chunkenc/index.js';
import { isTesseraError } from '../../errors/index.js';
import { CounterResetHint, FloatHistogram } from '../../histogram/index.js';
import { Labels, Matcher, MatchType } from '../../labels/index.js';
import { AppendErrorCode, type Querier } from '../../storage/index.js';
import { decodeRecord } from '../wal/index.js';
import { Head } from './head.js';

const L = (...nv: string[]) => Labels.fromStrings(...nv);
const eq = (n: string, v: string) => new Matcher(MatchType.Equal, n, v);

async function samplesOf(q: Querier, ...matchers: Matcher[]): Promise<Map<string, [number, number][]>> {
  const set = await q.select(true, undefined, matchers);
  const out = new Map<string, [number, number][]>();
  while (set.next()) {
    const s = set.at();
    const it = s.iterator();
    const list: [number, number][] = [];
    for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) list.push([it.atT(), vt === ValueType.Float ? it.atF() : it.atFloatHistogram().sum]);
    expect(it.err()).toBeNull();
    out.set(s.labels().toString(), list);
  }
  expect(set.err()).toBeNull();
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTesseraError(e) ? e.code : String(e);
  }
  return undefined;
}

function hist(count: number, sum: number): FloatHistogram {
  const h = new FloatHistogram();
  h.schema = 1;
  h.count = count;
  h.sum = sum;
  h.zeroCount = 0;
  h.positiveSpans = [{ offset: 0, length: 2 }];
  h.positiveBuckets = [count / 2, count / 2];
  return h;
}

describe('Head', () => {
  test('samples become visible at commit, not before; rollback drops the batch', async () => {
    const head = new Head();
    const a = head.appender();
    const ref = a.append(0, L('__name__', 'up', 'job', 'a'), 1000, 1);
    a.append(ref, L('__name__', 'up', 'job', 'a'), 2000, 2);
    expect(await samplesOf(await head.querier(0, 10_000), eq('__name__', 'up'))).toEqual(new Map());
    await a.commit();
    const b = head.appender();
    b.append(ref, L('__name__', 'up', 'job', 'a'), 3000, 3);
    await b.rollback();
    expect(await samplesOf(await head.querier(0, 10_000), eq('__name__', 'up'))).toEqual(
      new Map([['{__name__="up", job="a"}', [[1000, 1], [2000, 2]]]]),
    );
    expect(head.minTime()).toBe(1000);
    expect(head.maxTime()).toBe(2000);
    // A ref is stable across appenders, and the same labels give the same ref.
    const c = head.appender();
    expect(c.append(0, L('__name__', 'up', 'job', 'a'), 3000, 3)).toBe(ref);
    await c.commit();
  });

  test('out of order, duplicate timestamp, out of bounds and invalid labels', async () => {
    const head = new Head({ chunkRange: 60_000 });
    const l = L('__name__', 'x');
    const a = head.appender();
    a.append(0, l, 100_000, 1);
    await a.commit();
    const b = head.appender();
    expect(codeOf(() => b.append(0, l, 99_000, 1))).toBe(AppendErrorCode.OutOfOrder);
    expect(codeOf(() => b.append(0, l, 100_000, 2))).toBe(AppendErrorCode.DuplicateTimestamp);
    expect(codeOf(() => b.append(0, l, 100_000, 1))).toBeUndefined(); // same value: accepted, ignored
    expect(codeOf(() => b.append(0, L('__name__', 'y'), 69_000, 1))).toBe(AppendErrorCode.OutOfBounds); // < maxt − range/2
    expect(codeOf(() => b.append(0, Labels.EMPTY, 100_000, 1))).toBe(AppendErrorCode.InvalidLabels);
    expect(codeOf(() => b.append(0, Labels.fromSortedFlat(['b', '1', 'a', '2']), 100_000, 1))).toBe(AppendErrorCode.InvalidLabels);
    // The batch goes on after errors; within a batch order is checked too.
    b.append(0, l, 101_000, 3);
    expect(codeOf(() => b.append(0, l, 100_500, 1))).toBe(AppendErrorCode.OutOfOrder);
    await b.commit();
    expect(await samplesOf(await head.querier(0, 1e9), eq('__name__', 'x'))).toEqual(new Map([['{__name__="x"}', [[100_000, 1], [101_000, 3]]]]));
  });

  test('float chunks are cut exactly as the Prometheus head cuts them (ChunkCutter)', async () => {
    const head = new Head();
    const l = L('__name__', 'cut');
    const cutter = new ChunkCutter();
    let t = 1_700_000_123_456;
    // Irregular intervals and a rate change, over several 2h ranges, in commits of varying size.
    for (let i = 0; i < 3000; ) {
      const a = head.appender();
      const n = 1 + (i % 37);
      for (let k = 0; k < n && i < 3000; k++, i++) {
        t += i < 1500 ? 15_000 : 1_000 + (i % 7) * 500;
        const v = Math.sin(i) * 100;
        a.append(0, l, t, v);
        cutter.append(t, v);
      }
      await a.commit();
    }
    const want = cutter.finish();
    const q = await head.chunkQuerier(-Infinity, Infinity);
    const set = await q.select(true, undefined, [eq('__name__', 'cut')]);
    expect(set.next()).toBe(true);
    const got = [...set.at().chunks()];
    expect(got.map((c) => [c.minTime, c.maxTime, c.chunk.numSamples()])).toEqual(want.map((c) => [c.minTime, c.maxTime, c.chunk.numSamples()]));
    got.forEach((c, i) => expect(Buffer.from(c.chunk.bytes()).equals(Buffer.from(want[i]!.chunk.bytes()))).toBe(true));
    expect(got.length).toBeGreaterThan(10);
  });

  test('stale markers are stored with their bit pattern; a stale float on a histogram series becomes a stale histogram', async () => {
    const head = new Head();
    const f = L('__name__', 'f');
    const h = L('__name__', 'h');
    const a = head.appender();
    a.append(0, f, 1000, 1);
    a.appendHistogram(0, h, 1000, hist(4, 10));
    await a.commit();
    const b = head.appender();
    b.append(0, f, 2000, staleNaN());
    b.append(0, h, 2000, staleNaN());
    await b.commit();
    const q = await head.querier(0, 10_000);
    const set = await q.select(true, undefined, [new Matcher(MatchType.Regexp, '__name__', 'f|h')]);
    const seen: string[] = [];
    while (set.next()) {
      const it = set.at().iterator();
      const types: string[] = [];
      for (let vt = it.next(); vt !== ValueType.None; vt = it.next()) {
        const v = vt === ValueType.Float ? it.atF() : it.atFloatHistogram().sum;
        floatBits.f64[0] = v;
        types.push(`${vt}:${isStaleNaN(v)}`);
      }
      seen.push(`${set.at().labels().get('__name__')} ${types.join(',')}`);
    }
    expect(seen).toEqual([`f ${ValueType.Float}:false,${ValueType.Float}:true`, `h ${ValueType.FloatHistogram}:false,${ValueType.FloatHistogram}:true`]);
  });

  test('float histograms: chunks of float histogram encoding, counter resets start a CounterReset chunk, duplicates', async () => {
    const head = new Head();
    const l = L('__name__', 'lat');
    const a = head.appender();
    for (let i = 0; i < 30; i++) a.appendHistogram(0, l, 1000 * (i + 1), hist(i < 20 ? 10 + i : i - 19, i));
    await a.commit();
    const b = head.appender();
    expect(codeOf(() => b.appendHistogram(0, l, 30_000, hist(99, 1)))).toBe(AppendErrorCode.DuplicateTimestamp);
    expect(codeOf(() => b.appendHistogram(0, l, 30_000, hist(10, 29)))).toBeUndefined();
    expect(codeOf(() => b.append(0, l, 30_000, 1))).toBe(AppendErrorCode.DuplicateTimestamp);
    await b.commit();
    const q = await head.chunkQuerier(0, 1e9);
    const set = await q.select(true, undefined, [eq('__name__', 'lat')]);
    expect(set.next()).toBe(true);
    const chunks = [...set.at().chunks()];
    expect(chunks.map((c) => [c.chunk.encoding(), c.chunk.numSamples()])).toEqual([
      [Encoding.FloatHistogram, 20],
      [Encoding.FloatHistogram, 10],
    ]);
    expect(chunks[1]!.chunk.bytes()[2]! >> 6).toBe(2); // 0b10: CounterReset header
    const got = await samplesOf(await head.querier(0, 1e9), eq('__name__', 'lat'));
    expect(got.get('{__name__="lat"}')!.map(([, v]) => v)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  test('a gauge histogram hint and a float after histograms switch chunks', async () => {
    const head = new Head();
    const l = L('__name__', 'g');
    const a = head.appender();
    const g = hist(5, 1);
    g.counterResetHint = CounterResetHint.Gauge;
    a.appendHistogram(0, l, 1000, g);
    a.appendHistogram(0, l, 2000, hist(5, 2));
    a.append(0, l, 3000, 7);
    await a.commit();
    const set = await (await head.chunkQuerier(0, 1e9)).select(true, undefined, [eq('__name__', 'g')]);
    expect(set.next()).toBe(true);
    expect([...set.at().chunks()].map((c) => c.chunk.encoding())).toEqual([Encoding.FloatHistogram, Encoding.FloatHistogram, Encoding.XOR]);
  });

  test('select with matchers, label names and values over the time range', async () => {
    const head = new Head();
    const a = head.appender();
    a.append(0, L('__name__', 'up', 'job', 'api', 'instance', 'a'), 1000, 1);
    a.append(0, L('__name__', 'up', 'job', 'db', 'instance', 'b'), 1000, 1);
    a.append(0, L('__name__', 'req', 'job', 'api', 'code', '500'), 50_000, 1);
    await a.commit();
    const q = await head.querier(0, 10_000);
    expect([...(await samplesOf(q, eq('job', 'api'))).keys()]).toEqual(['{__name__="up", instance="a", job="api"}']);
    expect([...(await samplesOf(q, new Matcher(MatchType.NotEqual, 'job', 'api'), eq('__name__', 'up'))).keys()]).toEqual(['{__name__="up", instance="b", job="db"}']);
    expect([...(await samplesOf(q, new Matcher(MatchType.Regexp, 'instance', 'a|b'))).keys()]).toHaveLength(2);
    expect([...(await samplesOf(q, eq('code', ''), eq('job', 'api'))).keys()]).toHaveLength(1);
    expect((await q.labelNames([])).values).toEqual(['__name__', 'instance', 'job']);
    expect((await q.labelValues('job', [])).values).toEqual(['api', 'db']);
    expect((await q.labelValues('instance', [eq('job', 'db')])).values).toEqual(['b']);
    const all = await head.querier(0, 100_000);
    expect((await all.labelNames([])).values).toEqual(['__name__', 'code', 'instance', 'job']);
    expect((await all.labelValues('__name__', [], { limit: 1 })).values).toEqual(['req']);
  });

  test('truncate drops chunks before mint, forgets empty series and raises the minimum valid time', async () => {
    const head = new Head({ chunkRange: 10_000 });
    const a = head.appender();
    for (let t = 0; t < 30_000; t += 1000) a.append(0, L('__name__', 'a'), t, t);
    a.append(0, L('__name__', 'old'), 1000, 1);
    await a.commit();
    const r = head.truncate(20_000);
    expect(r.removedSeries).toBe(1);
    expect(head.numSeries).toBe(1);
    expect(head.minTime()).toBe(20_000);
    const got = await samplesOf(await head.querier(0, 1e9), eq('__name__', 'a'));
    expect(got.get('{__name__="a"}')![0]).toEqual([20_000, 20_000]);
    const b = head.appender();
    expect(codeOf(() => b.append(0, L('__name__', 'new'), 19_000, 1))).toBe(AppendErrorCode.OutOfBounds);
    await b.rollback();
  });

  test('waitForAppenders waits for appenders holding samples before maxt; a commit with a sample before a truncation refuses the batch loudly', async () => {
    const head = new Head({ chunkRange: 100_000 });
    const a = head.appender();
    a.append(0, L('__name__', 'a'), 15_000, 1);
    const b = head.appender();
    b.append(0, L('__name__', 'b'), 25_000, 1);
    expect(head.hasAppendersBefore(20_000)).toBe(true);
    let waited = false;
    const w = head.waitForAppenders(20_000).then(() => {
      waited = true;
    });
    await b.commit();
    expect(waited).toBe(false);
    await a.commit();
    await w;
    expect(waited).toBe(true);
    expect(head.numSamples).toBe(2);
    // Truncating without waiting: the later commit is refused whole, with the samples named.
    const c = head.appender();
    c.append(0, L('__name__', 'b'), 26_000, 2);
    c.append(0, L('__name__', 'a'), 16_000, 2);
    head.truncate(20_000);
    const err: unknown = await c.commit().catch((e: unknown) => e);
    expect(isTesseraError(err) && err.code).toBe(AppendErrorCode.OutOfBounds);
    expect(String(err)).toMatch(/1 are before 20000.*\{__name__="a"\} at 16000/);
    expect(head.numSamples).toBe(2);
    expect(head.hasAppendersBefore(Infinity)).toBe(false);
  });

  test('concurrent appenders: commits are applied one at a time and all land', async () => {
    const head = new Head();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let round = 0; round < 20; round++) {
          const a = head.appender();
          for (let s = 0; s < 10; s++) a.append(0, L('__name__', 'c', 'w', String(w), 's', String(s)), 1000 * (round + 1), round);
          await a.commit();
        }
      }),
    );
    expect(head.numSeries).toBe(80);
    expect(head.numSamples).toBe(80 * 20);
  });

  test('a failed log write rejects the commit, applies nothing, and the next commit logs the series record again', async () => {
    const logged: string[] = [];
    let fail = true;
    const head = new Head({
      log: {
        log: (recs) => {
          if (fail) {
            fail = false;
            return Promise.reject(new Error('disk full'));
          }
          for (const r of recs) decodeRecord(r, { series: (ref, l) => logged.push(`series ${ref} ${l.toString()}`), sample: (ref, t, v) => logged.push(`sample ${ref} ${t} ${v}`), histogram: () => undefined });
          return Promise.resolve();
        },
      },
    });
    const a = head.appender();
    a.append(0, L('__name__', 'x'), 1000, 1);
    await expect(a.commit()).rejects.toThrow('disk full');
    expect(head.numSamples).toBe(0);
    const b = head.appender();
    b.append(0, L('__name__', 'x'), 1000, 2);
    await b.commit();
    expect(logged).toEqual(['series 1 {__name__="x"}', 'sample 1 1000 2']);
    expect(await samplesOf(await head.querier(0, 5000), eq('__name__', 'x'))).toEqual(new Map([['{__name__="x"}', [[1000, 2]]]]));
  });

  test('a float histogram chunk cut at a range boundary says whether its first sample is a counter reset (NotCounterReset / CounterReset header)', async () => {
    const head = new Head({ chunkRange: 60_000 });
    const l = L('__name__', 'hc');
    const a = head.appender();
    // Counts grow, drop at 60 s (a new range), grow again across 120 s.
    for (let t = 0; t < 180_000; t += 10_000) a.appendHistogram(0, l, t, hist(t < 60_000 ? 100 + t / 1000 : t / 1000, 1));
    await a.commit();
    const set = await (await head.chunkQuerier(0, 1e9)).select(true, undefined, [eq('__name__', 'hc')]);
    expect(set.next()).toBe(true);
    const headers = [...set.at().chunks()].map((c) => [c.minTime, c.chunk.bytes()[2]! >> 6]);
    expect(headers).toEqual([
      [0, 0], // first chunk of the series: unknown
      [60_000, 2], // 60 < 150: counter reset
      [120_000, 1], // not a counter reset
    ]);
  });

  test('truncate keeps an empty series while any appender still holds samples for it', async () => {
    const head = new Head({ chunkRange: 10_000 });
    const l = L('__name__', 'p');
    const a = head.appender();
    const b = head.appender();
    b.append(0, l, 50_000, 1);
    a.append(0, l, 50_000, 1);
    await a.rollback();
    head.truncate(20_000);
    expect(head.numSeries).toBe(1);
    await b.commit();
    expect(await samplesOf(await head.querier(0, 1e9), eq('__name__', 'p'))).toEqual(new Map([['{__name__="p"}', [[50_000, 1]]]]));
    head.truncate(60_000);
    expect(head.numSeries).toBe(0);
  });
});
