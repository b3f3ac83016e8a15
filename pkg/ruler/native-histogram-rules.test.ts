import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { histogramJson } from '../api/index.js';
import { DataSet } from '../datagen/index.js';
import type { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import { Engine } from '../promql/index.js';
import { createStoreQueryable } from '../query/index.js';
import { engineQueryFunc, histogramFromJson, type JsonHistogram, type RuleQueryFunc } from '../rules/index.js';
import { LocalStore, inProcessClient } from '../store/index.js';
import { Head } from '../tsdb/index.js';
import { fakeClock, waitFor } from '../testutil/index.js';
import { Ruler } from './ruler.js';

const S = 1000;

/** sourceHead holds a generated data set with native histograms (one host, 30 minutes). */
async function sourceHead(): Promise<{ head: Head; ds: DataSet; name: string }> {
  const ds = new DataSet({ hosts: 1, hours: 0.5, intervalSec: 15, nativeHistograms: true });
  const head = new Head();
  let name = '';
  for (const g of ds.families()) {
    for (const s of g.histograms) {
      name = s.labels.get('__name__');
      for (let i = 0; i < ds.steps; i++) {
        const t = ds.timestamps[i]!;
        if (Number.isNaN(t)) continue;
        const app = head.appender();
        app.appendHistogram(0, s.labels, t, ds.histogramAt(s, i));
        await app.commit();
      }
    }
  }
  return { head, ds, name };
}

function plain(h: FloatHistogram | undefined): unknown {
  if (h === undefined) return undefined;
  return { schema: h.schema, count: h.count, sum: h.sum, zeroCount: h.zeroCount, positiveSpans: h.positiveSpans, positiveBuckets: h.positiveBuckets, negativeSpans: h.negativeSpans, negativeBuckets: h.negativeBuckets };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ruler-nh-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

for (const path of ['engine', 'http-json'] as const) {
  test(`a recording rule whose result is a native histogram is stored as a histogram, served over StoreAPI and queryable (${path} query path)`, async () => {
    const { head: src, ds, name } = await sourceHead();
    expect(name).not.toBe('');
    const engine = new Engine();
    const direct = engineQueryFunc(engine, src);
    // The HTTP path gets the histogram as the query API prints it (histogramJson) and rebuilds it.
    const queryFunc: RuleQueryFunc =
      path === 'engine' ? direct : async (expr, t) => (await direct(expr, t)).map((s) => (s.h === undefined ? s : { ...s, h: histogramFromJson(JSON.parse(histogramJson(s.h)) as JsonHistogram) }));
    writeFileSync(join(dir, 'rules.yml'), `groups:\n  - name: nh\n    interval: 30s\n    rules:\n      - record: handler:latency:rate1m\n        expr: sum by (handler) (rate(${name}[1m]))\n      - record: latency:count\n        expr: sum(histogram_count(rate(${name}[1m])))\n`);
    const dst = new Head();
    const t0 = ds.startSec * S + 10 * 60 * S;
    const clock = fakeClock(t0);
    const ruler = new Ruler({
      ruleFiles: [join(dir, 'rules.yml')],
      queryFunc: () => queryFunc,
      appendable: dst,
      alertmanagers: () => [],
      labels: Labels.fromStrings('replica', 'r1'),
      alertQueryURL: 'http://q',
      evalInterval: 30 * S,
      resendDelay: 60 * S,
      forGracePeriod: 600 * S,
      forOutageTolerance: 3600 * S,
      clock,
    });
    await ruler.start();
    const g = ruler.groups()[0]!;
    const evalT = g.evalTimestamp(t0) + 30 * S;
    clock.advance(evalT);
    await waitFor('the group evaluated', async () => g.rules.every((r) => r.lastEvaluation !== undefined && r.lastEvaluation >= evalT - 30 * S) && g.rules.every((r) => r.health !== 'unknown'));
    for (const r of g.rules) expect([r.name, r.health, r.lastError?.message]).toEqual([r.name, 'ok', undefined]);
    const at = g.rules[0]!.lastEvaluation!;
    await ruler.stop();

    // what the rule computed, evaluated directly over the source
    const want = (await engine.instantQuery(src, `sum by (handler) (rate(${name}[1m]))`, at).exec()).value;
    expect(want.type).toBe('vector');
    if (want.type !== 'vector') return;
    expect(want.value.length).toBeGreaterThan(0);
    // served over the StoreAPI (the ruler's LocalStore with its labels) and queried back with PromQL
    const store = new LocalStore({ queryable: dst, externalLabels: Labels.fromStrings('replica', 'r1'), componentType: 'rule' });
    const q = createStoreQueryable({ client: inProcessClient(store, 'ruler'), replicaLabels: [], partialResponse: false });
    const got = (await engine.instantQuery(q, 'handler:latency:rate1m', at).exec()).value;
    expect(got.type).toBe('vector');
    if (got.type !== 'vector') return;
    const byHandler = (v: typeof got.value) => Object.fromEntries(v.map((s) => [s.metric.get('handler'), plain(s.h)]));
    expect(got.value.every((s) => s.h !== undefined && s.metric.get('replica') === 'r1')).toBe(true);
    expect(byHandler(got.value)).toEqual(byHandler(want.value));
    // functions over the stored histograms work, and the float rule beside it was recorded too
    const count = (await engine.instantQuery(q, 'sum(histogram_count(handler:latency:rate1m))', at).exec()).value;
    const countRule = (await engine.instantQuery(q, 'latency:count', at).exec()).value;
    expect(count.type === 'vector' && countRule.type === 'vector' && count.value[0]!.f).toBeCloseTo(countRule.type === 'vector' ? countRule.value[0]!.f : NaN, 9);
  });
}

test('histogramFromJson rebuilds exponential (negative, zero, positive buckets) and custom-bucket histograms from the API form', async () => {
  const { FloatHistogram } = await import('../histogram/index.js');
  const exp = new FloatHistogram();
  Object.assign(exp, { schema: 3, zeroThreshold: 0.001, zeroCount: 2, count: 20, sum: 1.5 });
  exp.positiveSpans = [{ offset: -2, length: 2 }, { offset: 3, length: 1 }];
  exp.positiveBuckets = [1, 4, 5];
  exp.negativeSpans = [{ offset: 1, length: 3 }];
  exp.negativeBuckets = [2, 3, 3];
  const back = histogramFromJson(JSON.parse(histogramJson(exp)) as JsonHistogram);
  expect(plain(back)).toEqual(plain(exp));
  expect(back.zeroThreshold).toBe(0.001);
  const nhcb = new FloatHistogram();
  Object.assign(nhcb, { schema: -53, count: 6, sum: 3 });
  nhcb.customValues = [0.1, 0.5, 1, 5];
  nhcb.positiveSpans = [{ offset: 0, length: 5 }];
  nhcb.positiveBuckets = [1, 2, 0, 2, 1];
  const c = histogramFromJson(JSON.parse(histogramJson(nhcb)) as JsonHistogram);
  // the empty (0.5, 1] bucket is not in the answer, but its neighbours' bounds give it back
  expect({ schema: c.schema, customValues: c.customValues, spans: c.positiveSpans, buckets: c.positiveBuckets, count: c.count, sum: c.sum }).toEqual({
    schema: -53,
    customValues: [0.1, 0.5, 1, 5],
    spans: [{ offset: 0, length: 2 }, { offset: 1, length: 2 }],
    buckets: [1, 2, 2, 1],
    count: 6,
    sum: 3,
  });
});
