import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { isStaleNaN } from '../promql/index.js';
import { AlertingRule, type Alert } from './alerting-rule.js';
import { toAlertmanagerAlerts } from './alertmanager-payload.js';
import { RecordingRule } from './recording-rule.js';
import { RuleGroup, type RuleGroupDeps } from './rule-group.js';
import type { RuleSample } from './rule-types.js';
import { TemplateExpander } from './template-expander.js';

const S = 1000;
const T0 = Date.UTC(2026, 10, 25, 14, 33, 54, 690);

/** A world for a group: a condition per expression, an append log, the notifications. */
function world(conditions: Record<string, (t: number) => RuleSample[]>) {
  const appended: RuleSample[] = [];
  const sent: { expr: string; alerts: Alert[] }[] = [];
  const deps: RuleGroupDeps = {
    query: async (expr, t) => {
      const f = conditions[expr];
      if (f === undefined) throw new Error(`no such expr ${expr}`);
      return f(t);
    },
    append: async (s) => {
      appended.push(...s);
    },
    notify: (expr, alerts) => sent.push({ expr, alerts: [...alerts] }),
    templates: { expander: new TemplateExpander({ externalURL: 'http://vm:19090' }), externalLabels: new Map([['cluster', 'eu1']]), externalURL: 'http://vm:19090' },
  };
  return { deps, appended, sent };
}

const groupOpts = { interval: 5 * S, queryOffset: 0, limit: 0, resendDelay: 60 * S, restore: false, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 600 * S } };

const sample = (v: number, ...kv: string[]): RuleSample => ({ labels: Labels.fromStrings('__name__', 'test_toggle', ...kv), t: 0, v });

describe('alerting rule states (Prometheus rules/alerting.go behaviour)', () => {
  test('inactive → pending → firing with for, ALERTS and ALERTS_FOR_STATE, templates rendered, startsAt = firedAt', async () => {
    let on = true;
    const w = world({ 'test_toggle > 0': () => (on ? [sample(1, 'name', 'a')] : []) });
    const rule = new AlertingRule('TestFor', 'test_toggle > 0', 15 * S, 0, { severity: 'page', from_label: '{{ $labels.name }}-x' }, { summary: 'toggle {{ $labels.name }} is {{ $value }}' });
    const g = new RuleGroup('g', 'f.yml', [rule], groupOpts);
    await g.eval(T0, w.deps);
    expect(rule.state()).toBe('pending');
    const alert = [...rule.active.values()][0]!;
    expect(alert.labels.toRecord()).toEqual({ alertname: 'TestFor', from_label: 'a-x', name: 'a', severity: 'page' });
    expect(alert.annotations).toEqual({ summary: 'toggle a is 1' });
    expect(w.appended.map((s) => `${s.labels.toString()} ${s.v}`)).toEqual([
      `{__name__="ALERTS", alertname="TestFor", alertstate="pending", from_label="a-x", name="a", severity="page"} 1`,
      `{__name__="ALERTS_FOR_STATE", alertname="TestFor", from_label="a-x", name="a", severity="page"} ${Math.floor(T0 / 1000)}`,
    ]);
    expect(w.sent).toEqual([]); // pending alerts are not sent
    for (let t = T0 + 5 * S; t < T0 + 15 * S; t += 5 * S) await g.eval(t, w.deps);
    expect(rule.state()).toBe('pending');
    await g.eval(T0 + 15 * S, w.deps);
    expect(rule.state()).toBe('firing');
    expect(w.sent).toHaveLength(1);
    const payload = toAlertmanagerAlerts(w.sent[0]!.expr, w.sent[0]!.alerts, { externalURL: 'http://vm:19090', externalLabels: Labels.fromStrings('cluster', 'eu1'), mode: 'prometheus' });
    expect(payload).toEqual([
      {
        labels: { alertname: 'TestFor', cluster: 'eu1', from_label: 'a-x', name: 'a', severity: 'page' },
        annotations: { summary: 'toggle a is 1' },
        startsAt: '2026-11-25T14:34:09.690Z',
        endsAt: '2026-11-25T14:38:09.690Z',
        generatorURL: 'http://vm:19090/graph?g0.expr=test_toggle+%3E+0&g0.tab=1',
      },
    ]);
    // resolved: endsAt = resolvedAt, ALERTS series get stale markers
    on = false;
    w.appended.length = 0;
    await g.eval(T0 + 20 * S, w.deps);
    expect(rule.state()).toBe('inactive');
    expect(w.sent).toHaveLength(2);
    expect(toAlertmanagerAlerts('x', w.sent[1]!.alerts, { externalURL: '', externalLabels: Labels.EMPTY, mode: 'prometheus' })[0]!.endsAt).toBe('2026-11-25T14:34:14.690Z');
    expect(w.appended).toHaveLength(2);
    expect(w.appended.every((s) => isStaleNaN(s.v) && s.t === T0 + 20 * S)).toBe(true);
  });

  test('for: 0 fires in the first evaluation', async () => {
    const w = world({ up: () => [sample(1)] });
    const rule = new AlertingRule('A', 'up', 0, 0, {}, {});
    await new RuleGroup('g', 'f', [rule], groupOpts).eval(T0, w.deps);
    expect(rule.state()).toBe('firing');
    expect(w.sent[0]!.alerts[0]!.firedAt).toBe(T0);
    expect(w.appended[0]!.labels.get('alertstate')).toBe('firing');
  });

  test('a pending alert whose condition stops is dropped and never sent', async () => {
    let on = true;
    const w = world({ up: () => (on ? [sample(1)] : []) });
    const rule = new AlertingRule('A', 'up', 60 * S, 0, {}, {});
    const g = new RuleGroup('g', 'f', [rule], groupOpts);
    await g.eval(T0, w.deps);
    on = false;
    await g.eval(T0 + 5 * S, w.deps);
    expect(rule.active.size).toBe(0);
    expect(w.sent).toEqual([]);
  });

  test('keep_firing_for 20s on a 5s group: firing until the evaluation 20s after the condition stopped', async () => {
    let on = true;
    const w = world({ up: () => (on ? [sample(1)] : []) });
    const rule = new AlertingRule('A', 'up', 0, 20 * S, {}, {});
    const g = new RuleGroup('g', 'f', [rule], groupOpts);
    await g.eval(T0, w.deps);
    on = false;
    const states: string[] = [];
    for (let t = T0 + 5 * S; t <= T0 + 25 * S; t += 5 * S) {
      await g.eval(t, w.deps);
      states.push(rule.state());
    }
    expect(states).toEqual(['firing', 'firing', 'firing', 'firing', 'inactive']);
    const a = [...rule.active.values()][0]!;
    expect(a.keepFiringSince).toBe(T0 + 5 * S);
    expect(a.resolvedAt).toBe(T0 + 25 * S);
  });

  test('resend delay: re-sent on the first evaluation more than 1m after the last send; resolved alerts re-sent for 15 minutes with the same endsAt', async () => {
    let on = true;
    const w = world({ up: () => (on ? [sample(1)] : []) });
    const rule = new AlertingRule('A', 'up', 0, 0, {}, {});
    const g = new RuleGroup('g', 'f', [rule], groupOpts);
    for (let t = T0; t <= T0 + 90 * S; t += 5 * S) await g.eval(t, w.deps);
    expect(w.sent.map((s) => (s.alerts[0]!.lastSentAt - T0) / S)).toEqual([0, 65]);
    expect(w.sent.map((s) => s.alerts[0]!.validUntil - s.alerts[0]!.lastSentAt)).toEqual([240 * S, 240 * S]);
    on = false;
    w.sent.length = 0;
    const resolvedAt = T0 + 95 * S;
    for (let t = resolvedAt; t <= resolvedAt + 16 * 60 * S; t += 5 * S) await g.eval(t, w.deps);
    const offsets = w.sent.map((s) => (s.alerts[0]!.lastSentAt - resolvedAt) / S);
    expect(offsets.slice(0, 3)).toEqual([0, 65, 130]);
    expect(w.sent.every((s) => s.alerts[0]!.resolvedAt === resolvedAt)).toBe(true);
    expect(offsets[offsets.length - 1]).toBeLessThanOrEqual(900);
    expect(rule.active.size).toBe(0); // deleted after the 15 minute retention
  });

  test('duplicate alert label sets and the alert limit are errors; the other rules still run', async () => {
    const w = world({
      dup: () => [sample(1, 'i', '1'), { labels: Labels.fromStrings('__name__', 'other', 'i', '1'), t: 0, v: 1 }],
      two: () => [sample(1, 'i', '1'), sample(1, 'i', '2')],
      one: () => [sample(1)],
    });
    const dup = new AlertingRule('D', 'dup', 0, 0, {}, {});
    const lim = new AlertingRule('L', 'two', 0, 0, {}, {});
    const ok = new AlertingRule('O', 'one', 0, 0, {}, {});
    const res = await new RuleGroup('g', 'f', [dup, lim, ok], { ...groupOpts, limit: 1 }).eval(T0, w.deps);
    expect(res.failedRules).toBe(2);
    expect(dup.lastError?.message).toBe('vector contains metrics with the same labelset after applying alert labels');
    expect(lim.lastError?.message).toBe('exceeded limit of 1 with 2 alerts');
    expect(lim.active.size).toBe(0);
    expect([dup.health, lim.health, ok.health]).toEqual(['err', 'err', 'ok']);
  });

  test('restoring for state from ALERTS_FOR_STATE after the second evaluation (the spec’s 2.42 capture)', async () => {
    const w = world({ up: () => [sample(1, 'name', 'a')] });
    const start = Date.UTC(2026, 10, 25, 14, 37, 47, 80);
    const lookups: string[] = [];
    const deps: RuleGroupDeps = {
      ...w.deps,
      forStateLookup: async (series, mint, maxt) => {
        lookups.push(`${series.toString()} ${maxt - mint}`);
        if (series.get('alertname') === 'Long') return { t: Date.UTC(2026, 10, 25, 14, 37, 27, 75), v: 1795617422 };
        return { t: Date.UTC(2026, 10, 25, 14, 37, 27, 75), v: Date.UTC(2026, 10, 25, 14, 37, 4) / 1000 };
      },
    };
    const long = new AlertingRule('Long', 'up', 60 * S, 0, {}, {}, false);
    const short = new AlertingRule('Short', 'up', 15 * S, 0, {}, {}, false);
    const tooShort = new AlertingRule('TooShort', 'up', 1 * S, 0, {}, {}, false);
    const opts = { ...groupOpts, interval: 10 * S, restore: true, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 5 * S } };
    const g = new RuleGroup('g', 'f', [long, short, tooShort], opts);
    await g.eval(start, deps);
    expect(w.appended).toEqual([]); // no ALERTS* before restoration
    await g.eval(start + 10 * S, deps);
    expect(lookups).toEqual([
      '{__name__="ALERTS_FOR_STATE", alertname="Long", name="a"} 3600000',
      '{__name__="ALERTS_FOR_STATE", alertname="Short", name="a"} 3600000',
    ]);
    expect(new Date([...long.active.values()][0]!.activeAt).toISOString()).toBe('2026-11-25T14:37:32.080Z');
    expect(new Date([...short.active.values()][0]!.activeAt).toISOString()).toBe('2026-11-25T14:37:04.000Z');
    expect([...tooShort.active.values()][0]!.activeAt).toBe(start);
    await g.eval(start + 20 * S, deps);
    expect(short.state()).toBe('firing');
    expect(long.state()).toBe('pending');
    expect(w.appended.filter((s) => s.labels.get('__name__') === 'ALERTS').length).toBe(3);
  });

  test('a rule whose queries fail at its first evaluations after a restart is restored at its first successful evaluation', async () => {
    let down = true;
    const w = world({ up: () => [sample(1, 'name', 'a')] });
    const start = Date.UTC(2026, 10, 25, 14, 37, 47, 80);
    const deps: RuleGroupDeps = {
      ...w.deps,
      query: async (expr, t) => {
        if (down) throw new Error('no query API server reachable');
        return w.deps.query(expr, t);
      },
      forStateLookup: async () => ({ t: Date.UTC(2026, 10, 25, 14, 37, 27, 75), v: Date.UTC(2026, 10, 25, 14, 37, 4) / 1000 }),
    };
    const r = new AlertingRule('Short', 'up', 15 * S, 0, {}, {}, false);
    const g = new RuleGroup('g', 'f', [r], { ...groupOpts, interval: 10 * S, restore: true, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 5 * S } });
    await g.eval(start, deps);
    await g.eval(start + 10 * S, deps);
    expect(r.restored).toBe(false);
    down = false;
    await g.eval(start + 20 * S, deps);
    expect(r.restored).toBe(true);
    expect(new Date([...r.active.values()][0]!.activeAt).toISOString()).toBe('2026-11-25T14:37:04.000Z');
    await g.eval(start + 30 * S, deps);
    expect(r.state()).toBe('firing');
    expect(w.appended.filter((s) => s.labels.get('alertstate') === 'pending')).toEqual([]);
  });
});

describe('recording rules in a group', () => {
  test('rules run in order and see earlier results; labels override; stale markers; query_offset', async () => {
    const store = new Map<string, RuleSample>();
    let n = 3;
    const w = world({});
    const deps: RuleGroupDeps = {
      ...w.deps,
      query: async (expr, t) => {
        if (expr === 'up') return Array.from({ length: n }, (_x, i) => ({ labels: Labels.fromStrings('__name__', 'up', 'instance', `i${i}`, 'job', 'j'), t, v: 1 }));
        if (expr === 'up:count') return [...store.values()].filter((s) => s.labels.get('__name__') === 'up:copy' && s.t === t && !Number.isNaN(s.v)).length > 0 ? [{ labels: Labels.EMPTY, t, v: [...store.values()].filter((s) => s.labels.get('__name__') === 'up:copy' && s.t === t && !Number.isNaN(s.v)).length }] : [];
        throw new Error('unknown');
      },
      append: async (samples) => {
        for (const s of samples) store.set(s.labels.key(), s);
        w.appended.push(...samples);
      },
    };
    const copy = new RecordingRule('up:copy', 'up', { job: 'override' });
    const count = new RecordingRule('up:copies', 'up:count', {});
    const g = new RuleGroup('g', 'f', [copy, count], { ...groupOpts, queryOffset: 2 * S });
    await g.eval(T0, deps);
    expect(w.appended.map((s) => `${s.labels.toString()} ${s.v} ${s.t - T0}`)).toEqual([
      '{__name__="up:copy", instance="i0", job="override"} 1 -2000',
      '{__name__="up:copy", instance="i1", job="override"} 1 -2000',
      '{__name__="up:copy", instance="i2", job="override"} 1 -2000',
      '{__name__="up:copies"} 3 -2000',
    ]);
    n = 2;
    w.appended.length = 0;
    await g.eval(T0 + 5 * S, deps);
    const staleOnes = w.appended.filter((s) => isStaleNaN(s.v));
    expect(staleOnes.map((s) => s.labels.get('instance'))).toEqual(['i2']);
    expect(w.appended.find((s) => s.labels.get('__name__') === 'up:copies')!.v).toBe(2);
  });

  test('same label set after rule labels, the series limit', async () => {
    const q = async () => [
      { labels: Labels.fromStrings('__name__', 'a', 'x', '1'), t: 0, v: 1 },
      { labels: Labels.fromStrings('__name__', 'b', 'x', '1'), t: 0, v: 1 },
    ];
    await expect(new RecordingRule('r', 'e', {}).eval(T0, 0, q, 0)).rejects.toThrow('vector contains metrics with the same labelset after applying rule labels');
    const q2 = async () => [
      { labels: Labels.fromStrings('x', '1'), t: 0, v: 1 },
      { labels: Labels.fromStrings('x', '2'), t: 0, v: 1 },
    ];
    await expect(new RecordingRule('r', 'e', {}).eval(T0, 0, q2, 1)).rejects.toThrow('exceeded limit of 1 with 2 series');
  });
});

describe('Alertmanager payload', () => {
  const alert = (labels: Labels, annotations: Record<string, string> = {}): Alert => ({
    state: 'firing', labels, annotations, value: 1, activeAt: T0, firedAt: T0, resolvedAt: 0, lastSentAt: T0, validUntil: T0 + 240 * S, keepFiringSince: 0,
  });
  test('external labels only where missing (Prometheus), set then dropped (Thanos); expression escaped like a form value', () => {
    const ext = Labels.fromStrings('cluster', 'eu1', 'severity', 'ext');
    const p = toAlertmanagerAlerts('test_toggle{name="a"} > 0', [alert(Labels.fromStrings('alertname', 'A', 'cluster', 'rule-wins')), alert(Labels.fromStrings('alertname', 'B', 'severity', 'page'), { s: 'x' })], {
      externalURL: 'http://vm:19090',
      externalLabels: ext,
      mode: 'prometheus',
    });
    expect(p[0]).toEqual({ labels: { alertname: 'A', cluster: 'rule-wins', severity: 'ext' }, startsAt: '2026-11-25T14:33:54.690Z', endsAt: '2026-11-25T14:37:54.690Z', generatorURL: 'http://vm:19090/graph?g0.expr=test_toggle%7Bname%3D%22a%22%7D+%3E+0&g0.tab=1' });
    expect(p[1]!.labels).toEqual({ alertname: 'B', cluster: 'eu1', severity: 'page' });
    expect(p[1]!.annotations).toEqual({ s: 'x' });
    const t = toAlertmanagerAlerts('up', [alert(Labels.fromStrings('alertname', 'A', 'cluster', 'rule', 'replica', 'r1'))], { externalURL: '', externalLabels: Labels.fromStrings('cluster', 'ruler', 'replica', 'r1'), mode: 'thanos', dropLabels: ['replica'] });
    expect(t[0]!.labels).toEqual({ alertname: 'A', cluster: 'ruler' });
  });
});
