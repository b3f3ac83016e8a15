import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Labels } from '../../labels/index.js';
import { MemoryStorage } from '../promqltest/index.js';
import { Engine } from './engine.js';
import { fastPaths } from './fast-paths.js';
import { staleNaN } from './stale.js';

// The whole-query shortcuts (aggregation and vector matching once per series) must give exactly
// the per-step results: same series in the same order, same values bit for bit (NaN, ±Inf, -0,
// compensated sums) and the same errors.

function storage(): MemoryStorage {
  const s = new MemoryStorage();
  const vals = [0, -0, 1, -1, 1e308, -1e308, 1e-300, NaN, Infinity, -Infinity, 0.1, 3, 2.5e15, 7];
  const jobs = ['a', 'b', 'c'];
  for (let i = 0; i <= 40; i++) {
    const t = i * 15_000;
    for (let h = 0; h < 6; h++) {
      const job = jobs[h % 3]!;
      const v = vals[(i * (h + 3) + h) % vals.length]!;
      if ((i + h) % 11 !== 5) s.append(Labels.fromStrings('__name__', 'm', 'job', job, 'instance', `i${h}`, 'mode', h % 2 === 0 ? 'x' : 'y'), t, i % 17 === 9 && h === 1 ? staleNaN : v);
      if (h < 3 && i % (h + 2) !== 0) s.append(Labels.fromStrings('__name__', 'n', 'job', job, 'instance', `i${h}`), t, i * (h + 1) - 7);
      if (h === 4 && i > 20) s.append(Labels.fromStrings('__name__', 'n', 'job', job, 'instance', 'late'), t, i);
      s.append(Labels.fromStrings('__name__', 'c_total', 'job', job, 'instance', `i${h}`), t, i * (h + 1) + (i > 25 && h === 2 ? -50 : 0));
    }
  }
  return s;
}

const SELECTORS = ['m', 'n', 'c_total', 'm{mode="x"}', 'rate(c_total[1m])', '{__name__=~"m|n"}', 'm offset 1m'];
const AGGS = ['sum', 'avg', 'count', 'group', 'min', 'max'];
const GROUPS = ['', ' by (job)', ' by (instance)', ' without (instance)', ' by (__name__)', ' without (mode)', ' by (job, mode)'];
const OPS = ['+', '-', '*', '/', '%', '^', 'atan2', '==', '!=', '>', '<=', '> bool', '== bool'];
const SCALARS = ['2', '-0.5', '0', 'NaN', '-Inf', 'scalar(n{instance="i1"})', 'time()', '(1 + 2)'];
const MATCH = ['', ' on(job)', ' ignoring(mode)', ' on(job) group_left', ' on(job) group_right', ' on(instance) group_left(mode)', ' ignoring(job, mode)'];

const exprArb: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...SELECTORS),
    fc.tuple(fc.constantFrom(...AGGS), fc.constantFrom(...GROUPS), tie('e')).map(([a, g, x]) => `${a}${g} (${x})`),
    fc.tuple(tie('e'), fc.constantFrom(...OPS), fc.constantFrom(...MATCH), tie('e')).map(([l, o, m, r]) => `(${l}) ${o}${m} (${r})`),
    tie('e').map((x) => `max_over_time((${x})[1m:15s])`),
    fc.tuple(tie('e'), fc.constantFrom(...OPS), fc.constantFrom(...SCALARS), fc.boolean()).map(([x, o, c, swap]) => (swap ? `${c} ${o} (${x})` : `(${x}) ${o} ${c}`)),
  ),
})).e;

const engine = new Engine({ timeoutMs: 5000, maxSamples: 1_000_000 });
const db = storage();

type Outcome = { ok: string } | { err: string };

function render(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Labels) return x.toString();
    if (typeof x === 'number') return Object.is(x, -0) ? '-0' : Number.isNaN(x) ? 'NaN' : Number.isFinite(x) ? x : String(x);
    return x;
  });
}

async function run(q: string, range: boolean): Promise<Outcome> {
  try {
    const query = range ? engine.rangeQuery(db, q, 30_000, 600_000, 30_000) : engine.instantQuery(db, q, 330_000);
    const r = await query.exec();
    return { ok: render([r.value, r.warnings, r.infos]) };
  } catch (err) {
    return { err: (err as Error).message };
  }
}

async function compare(q: string, range: boolean): Promise<void> {
  fastPaths.enabled = true;
  const fast = await run(q, range);
  fastPaths.enabled = false;
  try {
    const slow = await run(q, range);
    expect(fast, q).toEqual(slow);
  } finally {
    fastPaths.enabled = true;
  }
}

describe('fast paths equal per-step evaluation', () => {
  test('fixed queries', async () => {
    for (const q of [
      'sum by (job) (m)',
      'avg without (instance) (m)',
      'sum by (job) (rate(c_total[1m])) / sum by (job) (rate(c_total[2m]))',
      'm / on(job) group_left sum by (job) (m)',
      'sum by (job) (n) > on(job) group_right count by (job) (m)',
      'm * ignoring(mode) n',
      'n - on(job) n',
    ]) {
      await compare(q, true);
      await compare(q, false);
    }
  });

  test('generated expressions', async () => {
    await fc.assert(
      fc.asyncProperty(exprArb, fc.boolean(), async (q, range) => compare(q, range)),
      { numRuns: 300 },
    );
  }, 120_000);
});
