import { describe, expect, test } from 'vitest';
import { Labels } from '../../labels/index.js';
import { format, parseExpr } from '../parser/index.js';
import { MemoryStorage } from '../promqltest/memory-storage.js';
import { Engine } from './engine.js';

// Issue 13 item 4: count(up+0+0+...) with 1,200 terms gave 422 "Maximum call stack size
// exceeded"; Prometheus answers 200. Expressions of any depth Prometheus accepts must parse,
// print and evaluate.

function storage(): MemoryStorage {
  const s = new MemoryStorage();
  for (let i = 0; i <= 10; i++) {
    s.append(Labels.fromStrings('__name__', 'up', 'job', 'a'), i * 60_000, 1);
    s.append(Labels.fromStrings('__name__', 'up', 'job', 'b'), i * 60_000, 2);
  }
  return s;
}

const chain = (n: number, first = 'up', term = '+0'): string => first + term.repeat(n - 1);

describe('deep expressions', () => {
  for (const n of [1200, 10_000]) {
    test(`count(up+0+0+...) with ${n} terms parses, prints and evaluates (instant and range)`, async () => {
      const q = `count(${chain(n)})`;
      expect(format(parseExpr(q))).toBe(`count(${chain(n, 'up', ' + 0')})`);
      const r = await new Engine().instantQuery(storage(), q, 600_000).exec();
      expect(r.value.type).toBe('vector');
      if (r.value.type === 'vector') expect(r.value.value.map((s) => s.f)).toEqual([2]);
      const rr = await new Engine().rangeQuery(storage(), `sum(${chain(n, 'up', '+1')})`, 0, 600_000, 60_000).exec();
      if (rr.value.type !== 'matrix') throw new Error(`unexpected ${rr.value.type}`);
      expect(rr.value.value[0]!.floats.points().map((p) => p.f)).toEqual(Array.from({ length: 11 }, () => 3 + 2 * (n - 1)));
    });
  }

  test('deep chains in every operand position: scalars, aggregation and range-function parameters, subqueries', async () => {
    // Deeper than the evaluator's recursion threshold (96) several times over.
    const n = 500;
    const cases: [string, number[]][] = [
      [chain(n, '1', '+1'), [n]],
      [`sum(${chain(n, 'up', '*1')}) + ${chain(n, '0', '+0')}`, [3]],
      [`topk(${chain(n, '1', '*1')}, up)`, [2]],
      [`sum(quantile_over_time(${chain(n, '0.5', '*1')}, up[5m]))`, [3]],
      [`sum(max_over_time((${chain(n)})[5m:1m]))`, [3]],
      [`max_over_time(sum(${chain(n, 'up', ' or up')})[5m:1m])`, [3]],
      [`sum(label_replace(${chain(n)}, "x", "$1", "job", "(.*)"))`, [3]],
      [`count(${chain(n, 'up', ' > bool 0 + 0')})`, [2]],
    ];
    for (const [q, want] of cases) {
      const r = await new Engine().instantQuery(storage(), q, 600_000).exec();
      const got = r.value.type === 'scalar' ? [r.value.value.v] : r.value.type === 'vector' ? r.value.value.map((s) => s.f) : [];
      expect(got, q.slice(0, 60)).toEqual(want);
    }
  });

  test('a deep chain inside a deep chain of subqueries', async () => {
    let q = chain(300);
    for (let i = 0; i < 150; i++) q = `max_over_time((${q} + 0)[2m:1m])`;
    const r = await new Engine().instantQuery(storage(), `sum(${q})`, 600_000).exec();
    if (r.value.type !== 'vector') throw new Error(`unexpected ${r.value.type}`);
    expect(r.value.value.map((s) => s.f)).toEqual([3]);
  });

  test('nested parentheses, function calls, right-nested operators and unary minus 5,000 deep', async () => {
    const d = 5000;
    const cases = ['('.repeat(d) + 'up' + ')'.repeat(d), 'abs('.repeat(d) + 'up' + ')'.repeat(d), '0+('.repeat(d) + 'up' + ')'.repeat(d), '-'.repeat(d) + 'up', '1^'.repeat(d) + 'up', 'sum by (job) ('.repeat(d) + 'up' + ')'.repeat(d)];
    for (const q of cases) {
      const printed = format(parseExpr(q));
      expect(format(parseExpr(printed))).toBe(printed);
      const r = await new Engine().instantQuery(storage(), `sum(${q})`, 600_000).exec();
      if (r.value.type !== 'vector') throw new Error(`unexpected ${r.value.type}`);
      expect(r.value.value.map((s) => Math.abs(s.f)), q.slice(0, 8)).toEqual([q.startsWith('1^') ? 2 : 3]);
    }
  });

  test('100,000 nested parentheses, function calls and aggregations parse (promtool accepts them)', () => {
    const d = 100_000;
    expect(parseExpr('('.repeat(d) + 'up' + ')'.repeat(d)).kind).toBe('ParenExpr');
    expect(parseExpr('abs('.repeat(d) + 'up' + ')'.repeat(d)).kind).toBe('Call');
    expect(parseExpr('sum('.repeat(d) + 'up' + ')'.repeat(d)).kind).toBe('AggregateExpr');
  });

  test('samples of a deep chain are still limited by maxSamples', async () => {
    await expect(new Engine({ maxSamples: 40 }).rangeQuery(storage(), `sum(${chain(2000)})`, 0, 600_000, 60_000).exec()).rejects.toThrow(
      'query processing would load too many samples into memory in query execution',
    );
  });
});
