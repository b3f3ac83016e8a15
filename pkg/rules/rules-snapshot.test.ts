import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { RuleManager } from './rule-manager.js';
import type { RuleGroupDeps } from './rule-group.js';
import type { AlertingRuleSnapshot } from './rules-snapshot.js';
import { TemplateExpander } from './template-expander.js';

const S = 1000;
const T0 = 1_700_000_000_000;

describe('RuleManager.snapshot', () => {
  test('reports unknown before the first evaluation, then state, health, times and active alerts only', async () => {
    const m = new RuleManager({ defaultInterval: 10 * S, defaultQueryOffset: 0, resendDelay: 60 * S, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 600 * S }, fileOptions: { thanos: true } });
    const text = 'groups:\n  - name: g\n    partial_response_strategy: warn\n    rules:\n      - alert: A\n        expr: up == 0\n        keep_firing_for: 1m\n        labels: { sev: x }\n      - record: r\n        expr: up\n';
    expect((await m.update([{ path: 'f.yml', text }])).errors).toEqual([]);
    const before = m.snapshot();
    expect(before.groups[0]).toMatchObject({ name: 'g', file: 'f.yml', interval: 10 * S, limit: 0, lastEvaluation: undefined, evaluationTime: 0 });
    expect(before.groups[0]!.rules[0]).toMatchObject({ type: 'alerting', state: 'unknown', health: 'unknown', lastEvaluation: undefined, alerts: [] });
    let down = true;
    let fail = false;
    const deps: RuleGroupDeps = {
      query: async (expr, t) => {
        if (fail && expr === 'up') throw new Error('boom');
        return down && expr === 'up == 0' ? [{ labels: Labels.fromStrings('__name__', 'up', 'job', 'j'), t, v: 0 }] : [];
      },
      append: async () => {},
      notify: () => {},
      templates: { expander: new TemplateExpander({ externalURL: '' }), externalLabels: new Map(), externalURL: '' },
    };
    const g = m.groups()[0]!;
    await g.eval(T0, deps);
    let s = m.snapshot();
    const a = s.groups[0]!.rules[0] as AlertingRuleSnapshot;
    expect(a).toMatchObject({ state: 'firing', health: 'ok', lastEvaluation: T0, duration: 0, keepFiringFor: 60 * S, query: 'up == 0' });
    expect(a.labels.toRecord()).toEqual({ sev: 'x' });
    expect(a.alerts).toHaveLength(1);
    expect(a.alerts[0]).toMatchObject({ state: 'firing', activeAt: T0, value: 0, keepFiringSince: undefined });
    expect(a.alerts[0]!.labels.toRecord()).toEqual({ alertname: 'A', job: 'j', sev: 'x' });
    expect(s.groups[0]!.lastEvaluation).toBe(T0);
    expect(s.groups[0]!.evaluationTime).toBeGreaterThan(0);
    // the condition stops: held by keep_firing_for, keepFiringSince set
    down = false;
    fail = true;
    await g.eval(T0 + 10 * S, deps);
    s = m.snapshot();
    expect((s.groups[0]!.rules[0] as AlertingRuleSnapshot).alerts[0]).toMatchObject({ state: 'firing', keepFiringSince: T0 + 10 * S });
    expect(s.groups[0]!.rules[1]).toMatchObject({ type: 'recording', health: 'err', lastError: 'boom' });
    // after keep_firing_for the alert resolves and leaves the active list
    await g.eval(T0 + 80 * S, deps);
    s = m.snapshot();
    expect(s.groups[0]!.rules[0]).toMatchObject({ state: 'inactive', alerts: [] });
    expect(s.groups[0]!.partialResponseStrategy).toBe('warn');
  });
});
