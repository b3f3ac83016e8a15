import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { isStaleNaN } from '../promql/index.js';
import { AlertingRule } from './alerting-rule.js';
import { RecordingRule } from './recording-rule.js';
import { RuleGroup, type RuleGroupDeps } from './rule-group.js';
import type { RuleSample } from './rule-types.js';
import { TemplateExpander } from './template-expander.js';

const S = 1000;
const T0 = 1_767_225_600_000;
const opts = { interval: 10 * S, queryOffset: 0, limit: 0, resendDelay: 60 * S, restore: false, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 600 * S } };

function deps(appended: RuleSample[]): RuleGroupDeps {
  return {
    query: async (expr) => (expr === 'up' ? [{ labels: Labels.fromStrings('__name__', 'up', 'job', 'j'), t: 0, v: 1 }] : []),
    append: async (s) => void appended.push(...s),
    notify: () => {},
    templates: { expander: new TemplateExpander({ externalURL: '' }), externalLabels: new Map(), externalURL: '' },
  };
}

describe('reload: copyState', () => {
  test('alerts keep their state across a reload; series of removed rules are marked stale', async () => {
    const appended: RuleSample[] = [];
    const make = (withRecord: boolean): RuleGroup =>
      new RuleGroup('g', 'f.yml', [new AlertingRule('A', 'up', 30 * S, 0, { severity: 'page' }, {}), ...(withRecord ? [new RecordingRule('r', 'up', {})] : [])], opts);
    const old = make(true);
    for (let t = T0; t <= T0 + 30 * S; t += 10 * S) await old.eval(t, deps(appended));
    expect((old.rules[0] as AlertingRule).state()).toBe('firing');
    const firedAt = [...(old.rules[0] as AlertingRule).active.values()][0]!.firedAt;
    const fresh = make(false);
    fresh.copyState(old);
    appended.length = 0;
    await fresh.eval(T0 + 40 * S, deps(appended));
    const rule = fresh.rules[0] as AlertingRule;
    expect(rule.state()).toBe('firing'); // not back to pending
    expect([...rule.active.values()][0]!.firedAt).toBe(firedAt);
    expect(appended.filter((s) => isStaleNaN(s.v)).map((s) => s.labels.toString())).toEqual(['{__name__="r", job="j"}']);
    expect(appended.find((s) => s.labels.get('__name__') === 'ALERTS')!.labels.get('alertstate')).toBe('firing');
  });

  test('a changed rule (other labels) starts fresh', async () => {
    const appended: RuleSample[] = [];
    const old = new RuleGroup('g', 'f.yml', [new AlertingRule('A', 'up', 0, 0, { severity: 'page' }, {})], opts);
    await old.eval(T0, deps(appended));
    const fresh = new RuleGroup('g', 'f.yml', [new AlertingRule('A', 'up', 30 * S, 0, { severity: 'ticket' }, {})], opts);
    fresh.copyState(old);
    await fresh.eval(T0 + 10 * S, deps(appended));
    expect((fresh.rules[0] as AlertingRule).state()).toBe('pending');
  });
});

describe('evalTimestamp', () => {
  test('aligned to k × interval + a per-group offset, stable across instances', () => {
    const g = new RuleGroup('g', 'f.yml', [], opts);
    const now = T0 + 123_456;
    const ts = g.evalTimestamp(now);
    expect(ts).toBeLessThanOrEqual(now);
    expect(now - ts).toBeLessThan(10 * S);
    expect(g.evalTimestamp(now + 10 * S)).toBe(ts + 10 * S);
    expect(g.evalTimestamp(ts)).toBe(ts);
    expect(new RuleGroup('g', 'f.yml', [], opts).evalTimestamp(now)).toBe(ts);
    expect(new RuleGroup('other', 'f.yml', [], opts).evalTimestamp(now) % (10 * S)).not.toBe(ts % (10 * S));
  });
});
