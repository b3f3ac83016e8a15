import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { isStaleNaN } from '../promql/index.js';
import { fakeClock, waitFor } from '../testutil/index.js';
import type { AlertingRule } from './alerting-rule.js';
import { RuleManager } from './rule-manager.js';
import type { RuleGroupDeps } from './rule-group.js';
import type { RuleSample } from './rule-types.js';
import { TemplateExpander } from './template-expander.js';

const S = 1000;
const opts = { defaultInterval: 10 * S, defaultQueryOffset: 0, resendDelay: 60 * S, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 600 * S } };
const FILE_A = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: 20s\n      - record: r\n        expr: up\n';

describe('RuleManager', () => {
  test('a bad file on reload keeps the old rules and reports every error with file and line', async () => {
    const m = new RuleManager(opts);
    expect((await m.update([{ path: 'a.yml', text: FILE_A }])).errors).toEqual([]);
    const before = m.groups();
    const res = await m.update([{ path: 'a.yml', text: FILE_A }, { path: 'b.yml', text: 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n' }]);
    expect(res.errors).toEqual(['b.yml: 5:15: group "g", rule 1, "x": could not parse expression: 1:5: parse error: unclosed left parenthesis']);
    expect(m.groups()).toEqual(before);
    expect(res).toMatchObject({ groups: 1, rules: 2 });
  });

  test('groups evaluate on their aligned schedule; a reload keeps alert state; removed groups get stale markers', async () => {
    const t0 = 1_767_225_600_000;
    const clock = fakeClock(t0);
    const evals: number[] = [];
    const appended: RuleSample[] = [];
    const deps: RuleGroupDeps = {
      query: async (expr, t) => {
        if (expr === 'up') evals.push(t);
        return [{ labels: Labels.fromStrings('__name__', 'up', 'job', 'j'), t, v: 1 }];
      },
      append: async (s) => void appended.push(...s),
      notify: () => {},
      templates: { expander: new TemplateExpander({ externalURL: '' }), externalLabels: new Map(), externalURL: '' },
    };
    const m = new RuleManager(opts);
    await m.update([{ path: 'a.yml', text: FILE_A }, { path: 'b.yml', text: 'groups:\n  - name: h\n    rules:\n      - record: other\n        expr: vector(1)\n' }]);
    const g = m.groups()[0]!;
    m.run(deps, clock);
    const first = g.evalTimestamp(t0) + 10 * S;
    for (let k = 0; k < 4; k++) {
      clock.advance(first + k * 10 * S);
      await waitFor(`evaluation ${k}`, async () => evals.filter((t) => t === first + k * 10 * S).length === 2);
    }
    expect((g.rules[0] as AlertingRule).state()).toBe('firing');
    // reload: same group, b.yml removed
    const res = await m.update([{ path: 'a.yml', text: FILE_A }]);
    expect(res.removedSeries.map((s) => [s.labels.toString(), isStaleNaN(s.v)])).toEqual([['{__name__="other", job="j"}', true]]);
    const g2 = m.groups()[0]!;
    expect(g2).not.toBe(g);
    clock.advance(first + 4 * 10 * S);
    await waitFor('evaluation after reload', async () => evals.filter((t) => t === first + 40 * S).length === 2);
    expect((g2.rules[0] as AlertingRule).state()).toBe('firing');
    // a missed tick is skipped
    clock.advance(first + 75 * S);
    await waitFor('evaluation after a gap', async () => evals.includes(first + 70 * S));
    expect(evals.filter((t) => t > first + 40 * S)).toEqual([first + 70 * S, first + 70 * S]);
    await m.stop();
  });

  test('a reload waits for the in-flight evaluation of the group it replaces before taking its state', async () => {
    const t0 = 1_767_225_600_000;
    const clock = fakeClock(t0);
    let release: (() => void) | undefined;
    let blocked = false;
    const deps: RuleGroupDeps = {
      query: async (_expr, t) => {
        if (blocked) await new Promise<void>((r) => (release = r));
        return [{ labels: Labels.fromStrings('__name__', 'up', 'job', 'j'), t, v: 1 }];
      },
      append: async () => {},
      notify: () => {},
      templates: { expander: new TemplateExpander({ externalURL: '' }), externalLabels: new Map(), externalURL: '' },
    };
    const file = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n';
    const m = new RuleManager(opts);
    await m.update([{ path: 'a.yml', text: file }]);
    const g = m.groups()[0]!;
    m.run(deps, clock);
    const first = g.evalTimestamp(t0) + 10 * S;
    blocked = true;
    clock.advance(first);
    await waitFor('evaluation in flight', async () => release !== undefined);
    let reloaded = false;
    const p = m.update([{ path: 'a.yml', text: file }]).then((r) => {
      reloaded = true;
      return r;
    });
    // the reload cannot finish while the old group's evaluation is in flight
    await new Promise((r) => setImmediate(r));
    expect(reloaded).toBe(false);
    blocked = false;
    release!();
    expect((await p).errors).toEqual([]);
    // the alert the in-flight evaluation created was taken over by the new group
    const a = (m.groups()[0]!.rules[0] as AlertingRule).active;
    expect([...a.values()].map((x) => [x.state, x.activeAt])).toEqual([['firing', first]]);
    await m.stop();
  });
});
