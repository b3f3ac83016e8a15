import { describe, expect, test } from 'vitest';
import { ALL_FEATURES, ParseError, exprType, format, parseExpr, parseMetricSelector } from './index.js';
import type { Expr } from './index.js';
import { goQuote } from '../../labels/index.js';

// Printed forms and error texts of Prometheus 3.x features the installed Prometheus (2.42) lacks;
// texts are from upstream promql/parser (parse.go, lex.go, parse_test.go, printer.go).

describe('3.x syntax parses and prints canonically', () => {
  test.each([
    ['{"my.metric"}', '{__name__="my.metric"}'],
    ['{"my.metric", "label.x"="y"}', '{"label.x"="y",__name__="my.metric"}'],
    ['sum by ("utf8.label", job) (x)', 'sum by ("utf8.label", job) (x)'],
    ['foo[5m+1m]', 'foo[5m + 1m]'],
    ['foo offset (1h*2)', 'foo offset (1h * 2)'],
    ['foo[29s+1s:20*500ms] offset -(20*7s)', 'foo[29s + 1s:20 * 500ms] offset -(20 * 7s)'],
    ['foo offset -5m', 'foo offset -5m'],
    ['count_over_time(foo[step()])', 'count_over_time(foo[step()])'],
    ['count_over_time(foo[max_of(min_of(step()+1,1h),1ms)])', 'count_over_time(foo[max_of(min_of(step() + 1, 1h), 1ms)])'],
    ['foo offset range()', 'foo offset range()'],
    ['x + fill(0) y', 'x + fill (0) y'],
    ['x + on(a) group_left fill_left(1) fill_right(-Inf) y', 'x + on (a) group_left () fill_left (1) fill_right (-Inf) y'],
    ['fill + fill(0) fill', 'fill + fill (0) fill'],
    ['increase(x[1m] anchored)', 'increase(x[1m] anchored)'],
    ['rate(x[1m] smoothed @ 10 offset 1m)', 'rate(x[1m] smoothed @ 10.000 offset 1m)'],
    ['x </ 2', 'x </ 2'],
    ['limitk(2, x)', 'limitk(2, x)'],
    ['limit_ratio(0.5, x)', 'limit_ratio(0.5, x)'],
    ['time() - 1h', 'time() - 1h'],
    ['1e-7 + 1e21', '0.0000001 + 1000000000000000000000'],
    ['0x_1f + 1_000', '31 + 1000'],
  ])('%s', (q, want) => {
    const printed = format(parseExpr(q, ALL_FEATURES));
    expect(printed).toBe(want);
    expect(format(parseExpr(printed, ALL_FEATURES))).toBe(want);
  });
});

describe('errors carry Prometheus texts and positions', () => {
  test.each([
    ['', 'no expression found in input', 0, 0],
    ['# just a comment\n\n', 'no expression found in input', 0, 0],
    ['2.5.', 'bad number or duration syntax: "2.5."', 0, 4],
    ['100..4', 'bad number or duration syntax: "100.."', 0, 6],
    ['0deadbeef', 'bad number or duration syntax: "0de"', 0, 9],
    ['(1))', "unexpected right parenthesis ')'", 4, 4],
    ['x offset', 'unexpected end of input in offset, expected number or duration', 8, 8],
    ['foo[5m+1m]', 'experimental duration expression is not enabled', 4, 9],
    ['x + fill(0) y', 'binop fill modifiers are experimental and not enabled', 0, 13],
    ['x[1m] anchored', 'anchored modifier is experimental and not enabled', 0, 5],
    ['limitk(1, x)', 'limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions', 0, 12],
    ['mad_over_time(x[5m])', 'function "mad_over_time" is not enabled', 0, 13],
    ['unknown_fn(x)', 'unknown function with name "unknown_fn"', 0, 10],
    ['rate(x)', 'expected type range vector in call to function "rate", got instant vector', 5, 6],
    ['x + "a"', 'binary expression must contain only scalar and instant vector types', 4, 7],
    ['{a=""}', 'vector selector must contain at least one non-empty matcher', 0, 6],
    ['foo @ Inf', 'timestamp out of bounds for @ modifier: +Inf', 0, 3],
    ['sum(x, y)', 'wrong number of arguments for aggregate expression provided, expected 1, got 2', 0, 9],
    ['"\\q"', 'unknown escape sequence U+0071 \'q\'', 0, 4],
    ['{a="\u00e9"} + on(b) "x"', 'binary expression must contain only scalar and instant vector types', 17, 20],
  ])('%j', (q, msg, start, end) => {
    let err: unknown;
    try {
      parseExpr(q);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect(err).toBeInstanceOf(SyntaxError);
    const pe = err as ParseError;
    expect(pe.detail).toBe(msg);
    expect(pe.positionRange).toEqual({ start, end });
    expect(pe.message.endsWith(`parse error: ${msg}`)).toBe(true);
  });

  test('multi-line positions count lines and bytes like Prometheus', () => {
    expect(() => parseExpr('sum(\n  rate(x)\n)')).toThrow('2:8: parse error: expected type range vector');
  });
});

describe('AST shape', () => {
  test('nodes are frozen, positions are byte offsets, name matcher comes last', () => {
    const e = parseExpr('sum by (job) (rate(x{a="\u00e9"}[5m] offset 1m))');
    expect(Object.isFrozen(e)).toBe(true);
    expect(e.kind).toBe('AggregateExpr');
    if (e.kind !== 'AggregateExpr') return;
    expect(e.grouping).toEqual(['job']);
    const call = e.expr;
    expect(call.kind).toBe('Call');
    if (call.kind !== 'Call') return;
    const ms = call.args[0]!;
    expect(ms.kind).toBe('MatrixSelector');
    if (ms.kind !== 'MatrixSelector') return;
    expect(ms.range).toBe(300_000);
    expect(ms.vectorSelector.offset).toBe(60_000);
    expect(ms.vectorSelector.matchers.map((m) => m.toString())).toEqual(['a="\u00e9"', '__name__="x"']);
    // é is two bytes: "sum by (job) (rate(" is 19 bytes, the selector runs to its "]".
    expect(ms.posRange).toEqual({ start: 19, end: 19 + 'x{a="é"}[5m] offset 1m'.length + 1 });
  });

  test.each<[string, string]>([
    ['1 + 2', 'scalar'],
    ['x + 1', 'vector'],
    ['x[5m]', 'matrix'],
    ['x[5m:]', 'matrix'],
    ['"s"', 'string'],
    ['-(time())', 'scalar'],
  ])('exprType(%s) = %s', (q, t) => {
    expect(exprType(parseExpr(q))).toBe(t);
  });

  test.each([
    ['x[1001ms]', 1001],
    ['x[1003ms]', 1003],
    ['x[2002ms]', 2002],
    ['x[1m1ms]', 60001],
    ['x[1.5]', 1500],
  ])('range %s is exactly %d ms (seconds converted through whole nanoseconds)', (q, ms) => {
    const e = parseExpr(q);
    expect(e.kind).toBe('MatrixSelector');
    if (e.kind === 'MatrixSelector') expect(e.range).toBe(ms);
  });

  test('invalid UTF-8 from \\x escapes keeps its bytes and prints back as Go does', () => {
    const e = parseExpr('count_values("a\\xc5z", x)');
    expect(e.kind).toBe('AggregateExpr');
    if (e.kind === 'AggregateExpr' && e.param?.kind === 'StringLiteral') {
      expect(e.param.val).toBe('a\udcc5z');
      expect(goQuote(e.param.val)).toBe('"a\\xc5z"');
    } else expect.fail('no string parameter');
    const ok = parseExpr('"\\xc3\\xa9"');
    expect(ok.kind === 'StringLiteral' && ok.val).toBe('é');
  });

  test('precedence: unary minus binds looser than ^ and tighter than *', () => {
    const a = parseExpr('-x ^ 2');
    expect(a.kind).toBe('UnaryExpr');
    const b = parseExpr('-x * 2') as Expr;
    expect(b.kind).toBe('BinaryExpr');
    const c = parseExpr('2 ^ 3 ^ 2');
    expect(c.kind === 'BinaryExpr' && c.rhs.kind).toBe('BinaryExpr');
    const d = parseExpr('a or b and c');
    expect(d.kind === 'BinaryExpr' && d.op).toBe('or');
  });

  test('set operators get many-to-many matching; scalar operands drop matching', () => {
    const e = parseExpr('a and b');
    expect(e.kind === 'BinaryExpr' && e.matching?.card).toBe('many-to-many');
    const f = parseExpr('a + 1');
    expect(f.kind === 'BinaryExpr' && f.matching).toBeNull();
  });

  test('constant duration expressions are evaluated, step() ones are left to the engine', () => {
    const e = parseExpr('x[2m*(10+5)] offset -(1m)', ALL_FEATURES);
    if (e.kind !== 'MatrixSelector') throw new Error(e.kind);
    expect(e.range).toBe(1_800_000);
    expect(e.vectorSelector.offset).toBe(-60_000);
    const s = parseExpr('x[step()+1]', ALL_FEATURES);
    if (s.kind !== 'MatrixSelector') throw new Error(s.kind);
    expect(s.range).toBe(0);
    expect(s.rangeExpr?.op).toBe('+');
  });
});

describe('parseMetricSelector', () => {
  test('returns matchers including __name__', () => {
    expect(parseMetricSelector('up{job="a"}').map((m) => m.toString())).toEqual(['job="a"', '__name__="up"']);
    expect(parseMetricSelector('{__name__=~"a.*"}').map((m) => m.toString())).toEqual(['__name__=~"a.*"']);
  });
  test.each(['up + 1', 'rate(x[5m])', '{}', 'x[5m]'])('rejects %s', (s) => {
    expect(() => parseMetricSelector(s)).toThrow(ParseError);
  });
});
