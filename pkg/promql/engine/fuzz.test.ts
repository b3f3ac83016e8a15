import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Labels } from '../../labels/index.js';
import { MemoryStorage, parseHistogramDesc } from '../promqltest/index.js';
import { Engine } from './engine.js';
import { QueryError } from './errors.js';
import { staleNaN } from './stale.js';

// Random and mutated expressions evaluated against a small in-memory storage must either return a
// result or reject with a QueryError (never another exception type), within the engine timeout.

function storage(): MemoryStorage {
  const s = new MemoryStorage();
  const h = parseHistogramDesc('schema:0 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] n_buckets:[1]').h;
  const nhcb = parseHistogramDesc('schema:-53 sum:10 count:6 custom_values:[1 5] buckets:[1 2 3]').h;
  for (let i = 0; i <= 20; i++) {
    const t = i * 30_000;
    s.append(Labels.fromStrings('__name__', 'up', 'job', 'a', 'instance', 'x'), t, i % 7 === 6 ? staleNaN : i);
    s.append(Labels.fromStrings('__name__', 'up', 'job', 'b', 'instance', 'y'), t, 100 - 3 * i);
    s.append(Labels.fromStrings('__name__', 'req_total', 'code', '200', 'le', String(i % 3)), t, i * i);
    s.append(Labels.fromStrings('__name__', 'req_bucket', 'le', i % 2 === 0 ? '0.5' : '+Inf'), t, i % 5 === 0 ? NaN : i * 2);
    s.append(Labels.fromStrings('__name__', 'target_info', 'job', 'a', 'instance', 'x', 'version', 'v1'), t, 1);
    const hh = (i % 4 === 3 ? nhcb : h).copy();
    hh.count += i;
    hh.sum += i;
    hh.zeroCount += i;
    s.append(Labels.fromStrings('__name__', 'lat', 'job', 'a'), t, 0, hh);
    if (i % 3 === 0) s.append(Labels.fromStrings('__name__', 'mixed', 'job', 'a'), t, i);
    else s.append(Labels.fromStrings('__name__', 'mixed', 'job', 'a'), t, 0, h);
  }
  return s;
}

const SELECTORS = ['up', 'req_total', 'req_bucket', 'lat', 'mixed', 'target_info', '{job="a"}', 'up{job=~"a|b"}', 'nope', '{__name__=~".+"}'];
const RANGES = ['[1m]', '[5m]', '[90s]', '[2m:30s]', '[1m] anchored', '[3m] smoothed', '[10m:1m] @ 300', '[1m] offset 1m'];
const RANGE_FNS = ['rate', 'increase', 'delta', 'irate', 'resets', 'changes', 'sum_over_time', 'avg_over_time', 'max_over_time', 'quantile_over_time(0.5,', 'deriv', 'predict_linear', 'last_over_time', 'count_over_time', 'absent_over_time', 'stddev_over_time', 'mad_over_time', 'ts_of_max_over_time', 'first_over_time'];
const INSTANT_FNS = ['abs', 'ceil', 'exp', 'ln', 'sqrt', 'sort', 'sort_desc', 'timestamp', 'histogram_count', 'histogram_sum', 'histogram_avg', 'histogram_stddev', 'absent', 'scalar', 'vector', '-', 'day_of_week', 'clamp_min(', 'round('];
const AGGS = ['sum', 'avg', 'min', 'max', 'count', 'group', 'stddev', 'stdvar', 'topk(2,', 'bottomk(1,', 'quantile(0.9,', 'limitk(1,', 'limit_ratio(0.5,', 'count_values("v",'];
const BINOPS = ['+', '-', '*', '/', '%', '^', '==', '!=', '>', '<', '>=', '<=', 'and', 'or', 'unless', 'atan2', '> bool', '</', '>/'];
const MATCHING = ['', ' on(job)', ' ignoring(le)', ' on(job) group_left', ' ignoring(code) group_right(le)', ' fill(0)'];

/** exprArb builds syntactically plausible expressions; many are still type errors, which is fine. */
const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...SELECTORS),
    fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: -5, max: 5 })).map((n) => (Number.isNaN(n) ? 'NaN' : Number.isFinite(n) ? String(n) : n > 0 ? 'Inf' : '-Inf')),
    fc.tuple(fc.constantFrom(...RANGE_FNS), fc.constantFrom(...SELECTORS), fc.constantFrom(...RANGES)).map(([f, s, r]) =>
      f.endsWith(',') ? `${f} ${s}${r})` : f === 'predict_linear' ? `predict_linear(${s}${r}, 60)` : `${f}(${s}${r})`,
    ),
    fc.tuple(fc.constantFrom(...INSTANT_FNS), tie('e')).map(([f, a]) => (f.endsWith('(') ? `${f}${a}, 1)` : f === '-' ? `-${a}` : `${f}(${a})`)),
    fc.tuple(fc.constantFrom(...AGGS), fc.constantFrom('', ' by (job)', ' without (le)'), tie('e')).map(([a, g, x]) => (a.endsWith(',') ? `${a.slice(0, -1)}${g}${a.slice(-1)} ${x})` : `${a}${g} (${x})`)),
    fc.tuple(tie('e'), fc.constantFrom(...BINOPS), fc.constantFrom(...MATCHING), tie('e')).map(([l, o, m, r]) => `(${l}) ${o}${m} (${r})`),
    fc.tuple(tie('e'), fc.constantFrom('[2m:30s]', '[1m:]', '[5m:1m] offset 30s')).map(([x, r]) => `max_over_time((${x})${r})`),
    fc.tuple(tie('e'), fc.constantFrom('"0.5"', 'job')).map(([x]) => `histogram_quantile(0.5, ${x})`),
    tie('e').map((x) => `info(${x})`),
    tie('e').map((x) => `label_replace(${x}, "dst", "$1", "job", "(.*)")`),
  ),
})).e;

const SEEDS = [
  'sum by (job) (rate(up[5m] offset 1m))',
  'histogram_quantile(0.9, sum by (le) (rate(req_bucket[5m:1m] @ end())))',
  'up + on(job) group_left(instance) fill(0) up > bool 2 ^ -3 unless lat',
  'count_over_time(up[max_of(step()+1, 1h)]) offset -(2m*3)',
  'label_replace(up, "a", "$1", "job", "(.*)") or vector(1e3) atan2 0x1f',
  'topk(3, -up) / ignoring(job) group_right up',
  'increase(lat[2m] anchored) </ 3',
  'info(up, {version=~".+"})',
  'histogram_fraction(0, 2, lat) * histogram_count(lat smoothed)',
];
const ALPHABET = [...'abcxyz_019.{}[]()",=!~+-*/%^<>@: ', 'sum', 'by', 'on', 'offset', 'step()', 'Inf', '5m', 'up', 'lat', 'rate(', 'anchored'];

const engine = new Engine({ timeoutMs: 2000, maxSamples: 200_000 });
const db = storage();

async function check(q: string, range: boolean): Promise<void> {
  const t0 = performance.now();
  try {
    const query = range ? engine.rangeQuery(db, q, 60_000, 540_000, 45_000) : engine.instantQuery(db, q, 330_000);
    await query.exec();
  } catch (err) {
    if (!(err instanceof QueryError)) {
      throw new Error(`query ${JSON.stringify(q)} threw ${err instanceof Error ? `${err.constructor.name}: ${err.message}\n${err.stack}` : String(err)}`);
    }
  }
  // The engine timeout (2 s) bounds evaluation; allow headroom for a loaded machine.
  expect(performance.now() - t0).toBeLessThan(5000);
}

describe('engine fuzz', () => {
  test('generated expressions', async () => {
    await fc.assert(
      fc.asyncProperty(exprArb, fc.boolean(), async (q, range) => check(q, range)),
      { numRuns: 400 },
    );
  }, 120_000);

  test('mutated valid queries', async () => {
    const mutation = fc.record({
      seed: fc.constantFrom(...SEEDS),
      edits: fc.array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...ALPHABET)), { minLength: 1, maxLength: 4 }),
      range: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ seed, edits, range }) => {
        let q = seed;
        for (const [pos, del, ins] of edits) {
          const p = pos % (q.length + 1);
          q = q.slice(0, p) + ins + q.slice(p + del);
        }
        await check(q, range);
      }),
      { numRuns: 400 },
    );
  }, 120_000);

  test('the seeds themselves evaluate', async () => {
    for (const q of SEEDS) {
      await check(q, false);
      await check(q, true);
    }
  });
});
