import { describe, expect, test } from 'vitest';
import { FloatHistogram } from '../../histogram/index.js';
import { Labels } from '../../labels/index.js';
import type { Querier, Queryable } from '../../storage/index.js';
import { MemoryStorage } from '../promqltest/memory-storage.js';
import { Engine } from './engine.js';
import { ErrBadData, ErrExecution, ErrQueryCanceled, ErrQueryMemory, ErrQueryTimeout, ErrStorage, ErrTooManySamples, QueryError } from './errors.js';
import { staleNaN } from './stale.js';

function storage(): MemoryStorage {
  const s = new MemoryStorage();
  for (let i = 0; i <= 10; i++) {
    s.append(Labels.fromStrings('__name__', 'up', 'job', 'a'), i * 60_000, i);
    s.append(Labels.fromStrings('__name__', 'up', 'job', 'b'), i * 60_000, 10 * i);
  }
  return s;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the query to fail');
}

describe('Engine', () => {
  test('instant query returns a vector in storage order, with the step time as sample time', async () => {
    const r = await new Engine().instantQuery(storage(), 'up', 300_000).exec();
    expect(r.value.type).toBe('vector');
    if (r.value.type !== 'vector') return;
    expect(r.value.value.map((s) => [s.metric.get('job'), s.t, s.f])).toEqual([
      ['a', 300_000, 5],
      ['b', 300_000, 50],
    ]);
  });

  test('range query returns a label-sorted matrix; rate drops the metric name', async () => {
    const r = await new Engine().rangeQuery(storage(), 'rate(up[2m])', 120_000, 240_000, 60_000).exec();
    if (r.value.type !== 'matrix') throw new Error(`unexpected ${r.value.type}`);
    expect(r.value.value.map((s) => s.metric.toString())).toEqual(['{job="a"}', '{job="b"}']);
    expect(r.value.value[1]!.floats.points().map((p) => p.t)).toEqual([120_000, 180_000, 240_000]);
    for (const p of r.value.value[1]!.floats.points()) expect(p.f).toBeCloseTo(10 / 60, 12);
  });

  test('rate and increase count every counter reset inside each window (and none outside it) over a range query', async () => {
    // Drops at several places, including at a window's first and last sample as the windows move.
    const vals = [0, 5, 9, 2, 4, 4, 1, 8, 12, 3, 3, 7, 20, 25, 1, 2, 6, 9, 0, 4, 5, 8, 11, 2, 6, 9, 13, 17, 1, 3, 5];
    const s = new MemoryStorage();
    const l = Labels.fromStrings('__name__', 'c_total');
    vals.forEach((v, i) => s.append(l, i * 10_000, v));
    const want = (refT: number, range: number): number | undefined => {
      const idx = vals.map((_, i) => i).filter((i) => i * 10_000 > refT - range && i * 10_000 <= refT);
      if (idx.length < 2) return undefined;
      let result = vals[idx.at(-1)!]! - vals[idx[0]!]!;
      for (let k = 1; k < idx.length; k++) if (vals[idx[k]!]! < vals[idx[k - 1]!]!) result += vals[idx[k - 1]!]!;
      const firstT = idx[0]! * 10, lastT = idx.at(-1)! * 10;
      const sampled = lastT - firstT, avg = sampled / (idx.length - 1);
      let toStart = firstT - (refT - range) / 1000, toEnd = refT / 1000 - lastT;
      if (toStart >= avg * 1.1) toStart = avg / 2;
      if (result > 0 && vals[idx[0]!]! >= 0) toStart = Math.min(toStart, sampled * (vals[idx[0]!]! / result));
      if (toEnd >= avg * 1.1) toEnd = avg / 2;
      return (result * (sampled + toStart + toEnd)) / sampled;
    };
    for (const range of [30_000, 60_000]) {
      const r = await new Engine().rangeQuery(s, `increase(c_total[${range / 1000}s])`, 0, 300_000, 5_000).exec();
      if (r.value.type !== 'matrix') throw new Error(`unexpected ${r.value.type}`);
      const got = r.value.value[0]!.floats.points();
      const expected = Array.from({ length: 61 }, (_, i) => i * 5_000).flatMap((t) => {
        const v = want(t, range);
        return v === undefined ? [] : [{ t, f: v }];
      });
      expect(got.map((p) => p.t)).toEqual(expected.map((p) => p.t));
      got.forEach((p, i) => expect(p.f, `t=${p.t} range=${range}`).toBeCloseTo(expected[i]!.f, 9));
    }
  });

  test('a staleness marker ends the series within the lookback window', async () => {
    const s = new MemoryStorage();
    const l = Labels.fromStrings('__name__', 'x');
    s.append(l, 0, 1);
    s.append(l, 60_000, staleNaN);
    const at30 = await new Engine().instantQuery(s, 'x', 30_000).exec();
    const at90 = await new Engine().instantQuery(s, 'x', 90_000).exec();
    expect(at30.value.type === 'vector' && at30.value.value.length).toBe(1);
    expect(at90.value.type === 'vector' && at90.value.value.length).toBe(0);
  });

  test('intermediate results are released as Prometheus releases them: a long chain peaks at lhs + rhs + output', async () => {
    // 2 series × 11 steps = 22 samples per operand; every `+` holds its two inputs and its output.
    const chain = Array.from({ length: 12 }, () => 'up').join(' + ');
    for (const fast of [chain, `(${chain}) * on(job) group_left up`]) {
      const ok = await new Engine({ maxSamples: 66 }).rangeQuery(storage(), fast, 0, 600_000, 60_000).exec();
      expect(ok.value.type).toBe('matrix');
    }
    const err = await rejection(new Engine({ maxSamples: 65 }).rangeQuery(storage(), chain, 0, 600_000, 60_000).exec());
    expect(err).toBeInstanceOf(ErrTooManySamples);
  });

  test('subquery samples count while their function runs and are released after it', async () => {
    // up[10m:1m] at 600s: 10 steps × 2 series = 20 samples; a window of 10 per series, the last
    // one counted while its output is added: 20 + 10 + 1 + 1 = 32 on the left; the right side
    // runs on top of the left sum's 1 output sample: 33.
    const q = 'sum(count_over_time(up[10m:1m])) + sum(count_over_time(up[10m:1m]))';
    const ok = await new Engine({ maxSamples: 33 }).instantQuery(storage(), q, 600_000).exec();
    expect(ok.value.type).toBe('vector');
    const err = await rejection(new Engine({ maxSamples: 32 }).instantQuery(storage(), q, 600_000).exec());
    expect(err).toBeInstanceOf(ErrTooManySamples);
  });

  test('maxMemoryBytes bounds the loaded series data and the samples held (execution error)', async () => {
    // Each `up` series: 11 floats (176 bytes) + labels + overhead ≈ 400 bytes; loading both ≈ 800.
    const load = await rejection(new Engine({ maxMemoryBytes: 500 }).rangeQuery(storage(), 'up', 0, 600_000, 60_000).exec());
    expect(load).toBeInstanceOf(ErrQueryMemory);
    expect((load as QueryError).errorType).toBe('execution');
    expect((load as Error).message).toMatch(/^query processing would use more than the per-query memory budget of 500 bytes \(--query.max-memory\) in series loading: about \d+ bytes$/);
    // Enough for the data, not for the 22 + 22 + 22 samples of up + up at 16 bytes each.
    const evalErr = await rejection(new Engine({ maxMemoryBytes: 1500 }).rangeQuery(storage(), 'up + up', 0, 600_000, 60_000).exec());
    expect(evalErr).toBeInstanceOf(ErrQueryMemory);
    expect((evalErr as Error).message).toContain('in query execution');
    const ok = await new Engine({ maxMemoryBytes: 4000 }).rangeQuery(storage(), 'up + up', 0, 600_000, 60_000).exec();
    expect(ok.value.type).toBe('matrix');
  });

  test('a range vector counts its window while its function runs, one series at a time, as Prometheus', async () => {
    // sum_over_time(up[5m]) at 600 s: a 5-sample window per series ((300 s, 600 s]). Prometheus
    // holds the window (5), adds the output sample (6), releases the window before the next series'
    // (1 + 5 + 1): peak 7.
    const q = 'sum_over_time(up[5m])';
    expect((await new Engine({ maxSamples: 7 }).instantQuery(storage(), q, 600_000).exec()).value.type).toBe('vector');
    expect(await rejection(new Engine({ maxSamples: 6 }).instantQuery(storage(), q, 600_000).exec())).toBeInstanceOf(ErrTooManySamples);
    // Range 300..600 s at 60 s: a series' 6 output samples are counted when it is done, on top of
    // its last window: 5 + 6 = 11, then 6 + 5 + 6 = 17.
    expect((await new Engine({ maxSamples: 17 }).rangeQuery(storage(), q, 300_000, 600_000, 60_000).exec()).value.type).toBe('matrix');
    expect(await rejection(new Engine({ maxSamples: 16 }).rangeQuery(storage(), q, 300_000, 600_000, 60_000).exec())).toBeInstanceOf(ErrTooManySamples);
  });

  test('a native histogram sample counts its size in 16-byte samples, as Prometheus HPoint.size()', async () => {
    const st = new MemoryStorage();
    const h = new FloatHistogram();
    h.count = 4;
    h.sum = 5;
    h.positiveSpans = [{ offset: 0, length: 3 }];
    h.positiveBuckets = [1, 2, 1];
    for (let i = 0; i <= 10; i++) st.append(Labels.fromStrings('__name__', 'h'), i * 60_000, 0, h);
    // (168-byte struct + 4 × 8 bytes of span and buckets + 8-byte timestamp) / 16 = 13.
    expect((await new Engine({ maxSamples: 13 }).instantQuery(st, 'h', 600_000).exec()).value.type).toBe('vector');
    expect(await rejection(new Engine({ maxSamples: 12 }).instantQuery(st, 'h', 600_000).exec())).toBeInstanceOf(ErrTooManySamples);
    // A 2-minute window holds two of them, plus the one output histogram of sum_over_time.
    expect((await new Engine({ maxSamples: 39 }).instantQuery(st, 'sum_over_time(h[2m])', 600_000).exec()).value.type).toBe('vector');
    expect(await rejection(new Engine({ maxSamples: 38 }).instantQuery(st, 'sum_over_time(h[2m])', 600_000).exec())).toBeInstanceOf(ErrTooManySamples);
  });

  test('maxSamples gives ErrTooManySamples (execution)', async () => {
    const err = await rejection(new Engine({ maxSamples: 5 }).rangeQuery(storage(), 'up', 0, 600_000, 60_000).exec());
    expect(err).toBeInstanceOf(ErrTooManySamples);
    expect((err as QueryError).errorType).toBe('execution');
    expect((err as QueryError).message).toBe('query processing would load too many samples into memory in query execution');
  });

  test('an aborted signal gives ErrQueryCanceled', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await rejection(new Engine().instantQuery(storage(), 'up', 0, { signal: ac.signal }).exec());
    expect(err).toBeInstanceOf(ErrQueryCanceled);
    expect((err as QueryError).errorType).toBe('canceled');
  });

  test('exceeding the timeout gives ErrQueryTimeout', async () => {
    const inner = storage();
    const slow: Queryable = {
      async querier(mint, maxt): Promise<Querier> {
        const q = await inner.querier(mint, maxt);
        // Burn a few milliseconds of CPU so the deadline passes (no timers involved).
        const until = performance.now() + 5;
        while (performance.now() < until) {
          /* spin */
        }
        return q;
      },
    };
    const err = await rejection(new Engine({ timeoutMs: 1 }).instantQuery(slow, 'up', 0).exec());
    expect(err).toBeInstanceOf(ErrQueryTimeout);
    expect((err as QueryError).errorType).toBe('timeout');
  });

  test('storage failures are wrapped in ErrStorage with the cause', async () => {
    const cause = new Error('bucket unreachable');
    const broken: Queryable = {
      async querier(): Promise<Querier> {
        throw cause;
      },
    };
    const err = await rejection(new Engine().instantQuery(broken, 'up', 0).exec());
    expect(err).toBeInstanceOf(ErrStorage);
    expect((err as ErrStorage).cause).toBe(cause);
  });

  test.each([
    ['sum(', ErrBadData, 'bad_data'],
    ['up[5m]', ErrBadData, 'bad_data'],
  ])('range query %s fails with %s', async (q, cls, errorType) => {
    const err = await rejection(new Engine().rangeQuery(storage(), q, 0, 60_000, 60_000).exec());
    expect(err).toBeInstanceOf(cls);
    expect((err as QueryError).errorType).toBe(errorType);
  });

  test('many-to-many matching raises Prometheus error text', async () => {
    const s = storage();
    s.append(Labels.fromStrings('__name__', 'other', 'x', '1'), 0, 1);
    s.append(Labels.fromStrings('__name__', 'other', 'x', '2'), 0, 1);
    const err = await rejection(new Engine().instantQuery(s, 'up{job="a"} + on() other', 0).exec());
    expect(err).toBeInstanceOf(ErrExecution);
    expect((err as Error).message).toMatch(/^found duplicate series for the match group \{\} on the right hand-side of the operation/);
  });

  test('annotations carry Prometheus texts and positions', async () => {
    const r = await new Engine().instantQuery(storage(), 'rate(up[5m])', 600_000).exec();
    expect(r.infos).toEqual(['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "up" (1:6)']);
  });
});
