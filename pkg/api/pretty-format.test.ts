import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { format, parseExpr, type Expr } from '../promql/index.js';
import { prettyFormat } from './pretty-format.js';

// The previous implementation, verbatim: it re-printed every node's whole subtree at each level
// (quadratic on deep expressions). The new one must give the same output.

const maxCharactersPerLine = 100;

function indent(level: number): string {
  return '  '.repeat(level);
}

/** needsSplit tells whether the single-line form of e is longer than 100 bytes. */
function needsSplit(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') > maxCharactersPerLine;
}

function referencePrettyFormat(e: Expr, level = 0): string {
  const one = format(e);
  switch (e.kind) {
    case 'AggregateExpr': {
      if (!needsSplit(one)) return indent(level) + one;
      const inner = format(e.expr);
      const param = e.param === null ? '' : `${format(e.param)}, `;
      const opStr = one.slice(0, one.length - (param.length + inner.length + 2));
      let s = `${indent(level)}${opStr}(\n`;
      if (e.param !== null) s += `${referencePrettyFormat(e.param, level + 1)},\n`;
      return `${s}${referencePrettyFormat(e.expr, level + 1)}\n${indent(level)})`;
    }
    case 'BinaryExpr': {
      if (!needsSplit(one)) return indent(level) + one;
      const lhs = format(e.lhs);
      const rhs = format(e.rhs);
      const middle = one.slice(lhs.length + 1, one.length - rhs.length - 1); // op, bool, matching
      return `${referencePrettyFormat(e.lhs, level + 1)}\n${indent(level)}${middle}\n${referencePrettyFormat(e.rhs, level + 1)}`;
    }
    case 'Call': {
      if (!needsSplit(one)) return indent(level) + one;
      const args = e.args.map((a) => referencePrettyFormat(a, level + 1)).join(',\n');
      return `${indent(level)}${e.func.name}(\n${args}\n${indent(level)})`;
    }
    case 'ParenExpr':
      if (!needsSplit(one)) return indent(level) + one;
      return `${indent(level)}(\n${referencePrettyFormat(e.expr, level + 1)}\n${indent(level)})`;
    case 'SubqueryExpr': {
      if (!needsSplit(one)) return one;
      const inner = format(e.expr);
      return referencePrettyFormat(e.expr, level) + one.slice(inner.length);
    }
    case 'StepInvariantExpr':
      return referencePrettyFormat(e.expr, level);
    case 'UnaryExpr':
      return `${indent(level)}${e.op}${referencePrettyFormat(e.expr, level).trim()}`;
    default:
      return indent(level) + one;
  }
}

const corpus = [
  'sum by(job)(rate(x{b="1",a="2"}[5m]))',
  'a+on(x)group_left(y)b',
  '1.5 * x',
  'x offset 5m',
  'rate(x[5m] @ 100)',
  '-x unless y',
  'topk(3, x) > bool 2',
  'sum(rate(http_requests_total{job="api-server",handler="/api/v1/query"}[5m])) by (instance) / ignoring(code) sum(rate(errors_total[5m])) by (instance)',
  'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{job="apiserver", verb!="WATCH"}[5m])))',
  'topk(5, max_over_time(rate(node_network_receive_bytes_total{device!~"lo|veth.*", instance=~"host-.*"}[5m])[1h:1m]))',
  '-(sum(rate(a_very_long_metric_name_for_testing_purposes_total[5m])) + sum(rate(another_very_long_metric_name_total[5m])))',
  '(sum(rate(a_very_long_metric_name_for_testing_purposes_total[5m])) > bool on(job) group_left(instance) sum(rate(another_very_long_metric_name_total[5m])))',
  // a unary minus over a long binary expression (^ binds tighter), and over a long subquery
  '-a_very_long_metric_name_for_testing_purposes_total{instance="host-0001:9100"} ^ another_very_long_metric_name_total{job="x"}',
  '-max_over_time((a_very_long_metric_name_for_testing_purposes_total + another_very_long_metric_name_total{job="api"})[1h:5m] offset 1d)',
  'count_values("a_rather_long_output_label_name", a_very_long_metric_name_for_testing_purposes_total{instance=~"host-.*", job="node"})',
  'quantile by (job) (0.9, a_very_long_metric_name_for_testing_purposes_total{instance=~"host-.*"} * on (instance) group_right (job) b)',
  'label_replace(a_very_long_metric_name_for_testing_purposes_total, "dst_label", "ünïcödé-välüé-$1", "src", "(.*)") or vector(1)',
  // 100 and 101 bytes; 100 and 102 bytes in fewer characters (two-byte characters)
  `sum(${'x'.repeat(95)})`,
  `sum(${'x'.repeat(96)})`,
  `sum(x{a="${'é'.repeat(44)}"})`,
  `sum(x{a="${'é'.repeat(45)}"})`,
];

describe('prettyFormat', () => {
  test.each(corpus)('%s prints as before', (q) => {
    const e = parseExpr(q);
    expect(prettyFormat(e)).toBe(referencePrettyFormat(e));
  });

  test('random expressions print as before', () => {
    const name = fc.constantFrom('x', 'up', 'a_very_long_metric_name_for_testing_purposes_total', 'node_network_receive_bytes_total{device!~"lo|veth.*"}', 'm_total{l="välue"}');
    const leaf = fc.oneof(name, name.map((n) => `rate(${n}[5m])`), fc.constantFrom('1', '0.5', '"a string"'));
    const { expr } = fc.letrec<{ expr: string }>((tie) => ({
      expr: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '>', '> bool', 'and', 'or', '+ on (job) group_left (instance)', '/ ignoring (code)'), tie('expr')).map(([a, op, b]) => `${a} ${op} ${b}`),
        fc.tuple(fc.constantFrom('sum', 'max by (job)', 'count without (instance)'), tie('expr')).map(([op, a]) => `${op} (${a})`),
        fc.tuple(fc.constantFrom('topk', 'quantile'), tie('expr')).map(([op, a]) => `${op}(0.5, ${a})`),
        tie('expr').map((a) => `(${a})`),
        tie('expr').map((a) => `-${a}`),
        tie('expr').map((a) => `abs(${a})`),
        fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `clamp(${a}, ${b}, 1)`),
        tie('expr').map((a) => `max_over_time((${a})[1h:1m])`),
      ),
    }));
    let checked = 0;
    fc.assert(
      fc.property(expr, (q) => {
        let e: Expr;
        try {
          e = parseExpr(q);
        } catch {
          return; // type errors (e.g. a string operand): not an expression
        }
        checked++;
        expect(prettyFormat(e)).toBe(referencePrettyFormat(e));
      }),
      { numRuns: 500 },
    );
    expect(checked).toBeGreaterThan(100);
  });

  // Not timed: the printer's work is counted. Before, each of the 5,000 levels re-printed its
  // whole subtree (about 5,000 × 5,000 / 2 nodes, 10^8 characters).
  test('a chain of 5,000 binary operations costs the printer work linear in its size', () => {
    const n = 5000;
    const q = Array.from({ length: n + 1 }, (_, i) => `metric_${i}{job="api"}`).join(' + ');
    const e = parseExpr(q);
    let calls = 0;
    let chars = 0;
    const print = (x: Expr): string => {
      const s = format(x);
      calls++;
      chars += s.length;
      return s;
    };
    const out = prettyFormat(e, 0, print);
    expect(calls).toBeLessThanOrEqual(3 * (2 * n + 1));
    expect(chars).toBeLessThanOrEqual(3 * q.length);
    const lines = out.split('\n');
    // the innermost 3 operations fit in 100 bytes; every other operand and operator has its own line
    expect(lines).toHaveLength(2 * n + 1 - 6);
    expect(lines[0]).toBe(`${'  '.repeat(n - 3)}metric_0{job="api"} + metric_1{job="api"} + metric_2{job="api"} + metric_3{job="api"}`);
    expect(lines[1]).toBe(`${'  '.repeat(n - 4)}+`);
    expect(lines[2]).toBe(`${'  '.repeat(n - 3)}metric_4{job="api"}`);
    expect(lines.at(-1)).toBe('  metric_5000{job="api"}');
    // and the same text as before on a shorter chain
    const short = parseExpr(Array.from({ length: 301 }, (_, i) => `metric_${i}{job="api"}`).join(' + '));
    expect(prettyFormat(short)).toBe(referencePrettyFormat(short));
  });
});
