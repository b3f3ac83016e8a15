import { describe, expect, test } from 'vitest';
import { parseModelDuration } from './model-duration.js';
import { parseRuleFile } from './rule-file.js';

describe('parseRuleFile', () => {
  test('reads groups and rules with durations in milliseconds and the 3.x group keys', () => {
    const r = parseRuleFile(
      `groups:
  - name: g
    interval: 1m30s
    query_offset: 10s
    limit: 5
    labels: {team: a}
    rules:
      - record: x:sum
        expr: sum(x)
        labels: {k: v}
      - alert: A
        expr: x > 1
        for: 5m
        keep_firing_for: 1h
        annotations: {s: "{{ $value }}"}
`,
      'f.yml',
    );
    expect(r.errors).toEqual([]);
    const g = r.groups[0]!;
    expect({ name: g.name, interval: g.interval, queryOffset: g.queryOffset, limit: g.limit, labels: g.labels }).toEqual({
      name: 'g',
      interval: 90_000,
      queryOffset: 10_000,
      limit: 5,
      labels: { team: 'a' },
    });
    expect(g.rules).toEqual([
      { record: 'x:sum', alert: undefined, expr: 'sum(x)', for: 0, keepFiringFor: 0, labels: { k: 'v' }, annotations: {}, pos: { line: 8, col: 9 } },
      { record: undefined, alert: 'A', expr: 'x > 1', for: 300_000, keepFiringFor: 3_600_000, labels: {}, annotations: { s: '{{ $value }}' }, pos: { line: 11, col: 9 } },
    ]);
  });

  test("Thanos's partial_response_strategy only with the thanos option, and only warn/abort", () => {
    const text = 'groups:\n  - name: g\n    partial_response_strategy: WARN\n    rules: []\n';
    expect(parseRuleFile(text, 'f.yml').errors).toEqual(['f.yml: yaml: unmarshal errors:\n  line 3: field partial_response_strategy not found in type rulefmt.RuleGroup']);
    const ok = parseRuleFile(text, 'f.yml', { thanos: true });
    expect(ok.errors).toEqual([]);
    expect(ok.groups[0]!.partialResponseStrategy).toBe('warn');
    expect(parseRuleFile(text.replace('WARN', 'maybe'), 'f.yml', { thanos: true }).errors).toEqual([
      'f.yml: 2:5: group "g": partial_response_strategy must be warn or abort, got "maybe"',
    ]);
  });

  test('YAML syntax errors name file and line; group label names are validated', () => {
    expect(parseRuleFile('groups:\n  - name: g\n    rules:\n   - alert: a\n', 'f.yml').errors[0]).toMatch(/^f\.yml: yaml: line \d+: /);
    expect(parseRuleFile('groups:\n  - name: g\n    labels: {bad-name: x}\n    rules: []\n', 'f.yml').errors).toEqual(['f.yml: group "g": invalid label name: bad-name']);
  });
});

describe('parseModelDuration', () => {
  test('Prometheus duration syntax', () => {
    expect(parseModelDuration('1h30m')).toBe(5_400_000);
    expect(parseModelDuration('1d')).toBe(86_400_000);
    expect(parseModelDuration('500ms')).toBe(500);
    expect(parseModelDuration('0')).toBe(0);
    expect(parseModelDuration('1.5m')).toBeUndefined();
    expect(parseModelDuration('30m1h')).toBeUndefined();
    expect(parseModelDuration('')).toBeUndefined();
  });
});

test('positions: label, annotation and template problems also name the line of the value (the ruler asks for them; promtool gives none)', () => {
  const text = 'groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        labels:\n          sev: "{{ nosuch }}"\n        annotations:\n          s: "{{ $labels.job "\n          bad-name: v\n';
  const plain = parseRuleFile(text, 'r.yml').errors;
  expect(plain).toContain('r.yml: group "a", rule 1, "x": annotation "s": template: __alert_x:1: unclosed action');
  expect(plain.filter((e) => /^r\.yml: \d+:\d+: /.test(e))).toEqual([]);
  const withPos = parseRuleFile(text, 'r.yml', { positions: true }).errors;
  expect(withPos).toContain('r.yml: 10:21: group "a", rule 1, "x": invalid annotation name: bad-name');
  expect(withPos).toContain('r.yml: 7:16: group "a", rule 1, "x": label "sev": template: __alert_x:1: function "nosuch" not defined');
  expect(withPos).toContain('r.yml: 9:14: group "a", rule 1, "x": annotation "s": template: __alert_x:1: unclosed action');
});
