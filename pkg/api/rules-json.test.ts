import express from 'express';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { parseMetricSelector } from '../promql/index.js';
import { RuleManager, TemplateExpander, type RuleGroupDeps, type RulesSnapshot } from '../rules/index.js';
import { alertJson, alertsJson, goTimeJson, parseRulesQuery, ruleGroupNextToken, rulesJson } from './rules-json.js';
import { createRulesApiRouter } from './rules-router.js';
import { parseGoTime, parsePrometheusRules } from './rules-parse.js';
import { createApiRouter } from './router.js';

const S = 1000;
const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
const FILE = `groups:
  - name: b-group
    interval: 30s
    limit: 5
    rules:
      - alert: HighLoad
        expr: load  >  1
        for: 1m
        keep_firing_for: 2m
        labels: { severity: page, team: '{{ $labels.job }}' }
        annotations: { summary: 'load is {{ $value }}' }
      - record: job:load:sum
        expr: sum by (job) (load)
        labels: { source: rec }
      - alert: Never
        expr: load > 100
  - name: a-group
    rules:
      - record: plain
        expr: load
`;

async function evaluatedSnapshot(): Promise<RulesSnapshot> {
  const m = new RuleManager({ defaultInterval: 60 * S, defaultQueryOffset: 0, resendDelay: 60 * S, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 600 * S } });
  expect((await m.update([{ path: '/etc/rules/z.yml', text: FILE }])).errors).toEqual([]);
  const deps: RuleGroupDeps = {
    query: async (expr, t) => (expr.includes('> 100') ? [] : [{ labels: Labels.fromStrings('__name__', 'load', 'job', 'node'), t, v: 2.5 }]),
    append: async () => {},
    notify: () => {},
    templates: { expander: new TemplateExpander({ externalURL: '' }), externalLabels: new Map(), externalURL: '' },
  };
  const [b] = m.groups();
  await b!.eval(T0, deps);
  return m.snapshot();
}

/** zeroTimes makes the wall-clock evaluation times deterministic for exact comparisons. */
function zeroTimes(s: RulesSnapshot): RulesSnapshot {
  return { groups: s.groups.map((g) => ({ ...g, evaluationTime: 0.25, rules: g.rules.map((r) => ({ ...r, evaluationTime: 1.5 })) })) };
}

describe('rules JSON (Prometheus /api/v1/rules and /api/v1/alerts)', () => {
  test('goTimeJson writes Go RFC 3339 with trimmed fractions and the zero time', () => {
    expect(goTimeJson(undefined)).toBe('"0001-01-01T00:00:00Z"');
    expect(goTimeJson(T0)).toBe('"2023-11-14T22:13:20Z"');
    expect(goTimeJson(T0 + 120)).toBe('"2023-11-14T22:13:20.12Z"');
    expect(goTimeJson(T0 + 1.5)).toBe('"2023-11-14T22:13:20.0015Z"');
  });

  test('an evaluated manager renders exactly as Prometheus 3.x, field by field', async () => {
    const snap = zeroTimes(await evaluatedSnapshot());
    const data = JSON.parse(rulesJson(snap)) as { groups: Record<string, unknown>[] };
    // groups sorted by file, then name
    expect(data.groups.map((g) => g.name)).toEqual(['a-group', 'b-group']);
    const [a, b] = data.groups;
    expect(Object.keys(a!)).toEqual(['name', 'file', 'rules', 'interval', 'limit', 'evaluationTime', 'lastEvaluation']);
    expect(a).toEqual({
      name: 'a-group',
      file: '/etc/rules/z.yml',
      rules: [{ name: 'plain', query: 'load', labels: {}, health: 'unknown', evaluationTime: 0.0015, lastEvaluation: '0001-01-01T00:00:00Z', type: 'recording' }],
      interval: 60,
      limit: 0,
      evaluationTime: 0.00025,
      lastEvaluation: '0001-01-01T00:00:00Z',
    });
    const rules = b!.rules as Record<string, unknown>[];
    expect(b).toMatchObject({ name: 'b-group', interval: 30, limit: 5, lastEvaluation: '2023-11-14T22:13:20Z' });
    expect(Object.keys(rules[0]!)).toEqual(['state', 'name', 'query', 'duration', 'keepFiringFor', 'labels', 'annotations', 'alerts', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
    expect(rules[0]).toEqual({
      state: 'pending',
      name: 'HighLoad',
      query: 'load > 1', // printed, not the file text
      duration: 60,
      keepFiringFor: 120,
      labels: { severity: 'page', team: '{{ $labels.job }}' },
      annotations: { summary: 'load is {{ $value }}' },
      alerts: [{ labels: { alertname: 'HighLoad', job: 'node', severity: 'page', team: 'node' }, annotations: { summary: 'load is 2.5' }, state: 'pending', activeAt: '2023-11-14T22:13:20Z', value: '2.5e+00' }],
      health: 'ok',
      evaluationTime: 0.0015,
      lastEvaluation: '2023-11-14T22:13:20Z',
      type: 'alerting',
    });
    expect(Object.keys(rules[1]!)).toEqual(['name', 'query', 'labels', 'health', 'evaluationTime', 'lastEvaluation', 'type']);
    expect(rules[1]).toMatchObject({ name: 'job:load:sum', query: 'sum by (job) (load)', labels: { source: 'rec' }, health: 'ok' });
    expect(rules[2]).toMatchObject({ name: 'Never', state: 'inactive', alerts: [], duration: 0 });
    // alerts: only active alerts, in the same shape; key order as Prometheus's struct
    const alerts = JSON.parse(alertsJson(snap)) as { alerts: Record<string, unknown>[] };
    expect(alerts.alerts).toHaveLength(1);
    expect(Object.keys(alerts.alerts[0]!)).toEqual(['labels', 'annotations', 'state', 'activeAt', 'value']);
  });

  test('lastError, keepFiringSince and values render as Prometheus writes them', () => {
    expect(alertJson({ labels: Labels.fromStrings('a', '1'), annotations: Labels.EMPTY, state: 'firing', activeAt: T0, value: 1, keepFiringSince: T0 + 5 * S })).toBe(
      '{"labels":{"a":"1"},"annotations":{},"state":"firing","activeAt":"2023-11-14T22:13:20Z","keepFiringSince":"2023-11-14T22:13:25Z","value":"1e+00"}',
    );
    expect(alertJson({ labels: Labels.EMPTY, annotations: Labels.EMPTY, state: 'pending', activeAt: T0, value: 0.000123, keepFiringSince: undefined })).toContain('"value":"1.23e-04"');
    const snap: RulesSnapshot = {
      groups: [{ name: 'g', file: 'f', interval: 60 * S, limit: 1, evaluationTime: 0, lastEvaluation: T0, partialResponseStrategy: 'abort', rules: [{ type: 'recording', name: 'r', query: 'up', labels: Labels.EMPTY, health: 'err', lastError: 'exceeded limit of 1 with 2 series', evaluationTime: 0, lastEvaluation: T0 }] }],
    };
    expect(rulesJson(snap)).toBe(
      '{"groups":[{"name":"g","file":"f","rules":[{"name":"r","query":"up","labels":{},"health":"err","lastError":"exceeded limit of 1 with 2 series","evaluationTime":0,"lastEvaluation":"2023-11-14T22:13:20Z","type":"recording"}],"interval":60,"limit":1,"evaluationTime":0,"lastEvaluation":"2023-11-14T22:13:20Z"}]}',
    );
  });

  test('filters: type, rule_name[], rule_group[], file[], match[], exclude_alerts; empty groups dropped', async () => {
    const snap = await evaluatedSnapshot();
    const q = (s: string) => JSON.parse(rulesJson(snap, parseRulesQuery(new URLSearchParams(s), parseMetricSelector))) as { groups: { name: string; rules: { name: string; alerts?: unknown }[] }[] };
    const names = (s: string) => q(s).groups.map((g) => `${g.name}:${g.rules.map((r) => r.name).join(',')}`);
    expect(names('type=alert')).toEqual(['b-group:HighLoad,Never']);
    expect(names('type=RECORD')).toEqual(['a-group:plain', 'b-group:job:load:sum']);
    expect(names('rule_name[]=plain&rule_name[]=Never')).toEqual(['a-group:plain', 'b-group:Never']);
    expect(names('rule_group[]=b-group&type=record')).toEqual(['b-group:job:load:sum']);
    expect(names('file[]=/nope')).toEqual([]);
    expect(names('match[]={severity="page"}&match[]={source=~"r.c"}')).toEqual(['b-group:HighLoad,job:load:sum']);
    expect(q('exclude_alerts=true&type=alert').groups[0]!.rules[0]!.alerts).toBeNull();
    expect(q('exclude_alerts=false&type=alert').groups[0]!.rules[0]!.alerts).toHaveLength(1);
  });

  test('pagination: group_limit and group_next_token (hex SHA-256 of file;name)', async () => {
    const snap = await evaluatedSnapshot();
    const p1 = JSON.parse(rulesJson(snap, parseRulesQuery(new URLSearchParams('group_limit=1'), parseMetricSelector))) as { groups: { name: string }[]; groupNextToken: string };
    expect(p1.groups.map((g) => g.name)).toEqual(['a-group']);
    expect(p1.groupNextToken).toBe(ruleGroupNextToken('/etc/rules/z.yml', 'b-group'));
    expect(p1.groupNextToken).toMatch(/^[0-9a-f]{64}$/);
    const p2 = JSON.parse(rulesJson(snap, parseRulesQuery(new URLSearchParams(`group_limit=1&group_next_token=${p1.groupNextToken}`), parseMetricSelector))) as Record<string, unknown>;
    expect((p2.groups as { name: string }[]).map((g) => g.name)).toEqual(['b-group']);
    expect(p2).not.toHaveProperty('groupNextToken');
    expect(() => rulesJson(snap, parseRulesQuery(new URLSearchParams('group_limit=1&group_next_token=abc'), parseMetricSelector))).toThrow("invalid parameter \"group_next_token\": invalid group_next_token 'abc'. were rule groups changed?");
  });

  test('bad parameters give Prometheus error texts', () => {
    const e = (s: string) => () => parseRulesQuery(new URLSearchParams(s), parseMetricSelector);
    expect(e('type=x')).toThrow('invalid parameter "type": not supported value "x"');
    expect(e('exclude_alerts=yes')).toThrow('invalid parameter "exclude_alerts": error converting exclude_alerts: strconv.ParseBool: parsing "yes": invalid syntax');
    expect(e('group_next_token=a')).toThrow('invalid parameter "group_next_token": group_limit needs to be present in order to paginate over the groups');
    expect(e('group_limit=0')).toThrow('invalid parameter "group_limit": group_limit needs to be greater than 0');
    expect(e('group_limit=x')).toThrow('invalid parameter "group_limit": group_limit needs to be a valid number: strconv.ParseInt: parsing "x": invalid syntax');
    expect(e('match[]={a=""}')).toThrow('match[] must contain at least one non-empty matcher');
  });

  test('createRulesApiRouter and createApiRouter({rules}) serve the same answers over HTTP', async () => {
    const snap = await evaluatedSnapshot();
    const app = express();
    app.use('/r/api/v1', createRulesApiRouter({ rules: () => ({ ...snap, warnings: ['partial'] }) }));
    app.use('/q/api/v1', createApiRouter({ engine: {} as never, source: {} as never, rules: () => snap }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r1 = await fetch(`${base}/r/api/v1/rules?type=alert`);
      expect(r1.status).toBe(200);
      expect(r1.headers.get('content-type')).toBe('application/json');
      const b1 = (await r1.json()) as { status: string; data: unknown; warnings: string[] };
      expect(b1.status).toBe('success');
      expect(b1.warnings).toEqual(['partial']);
      const r2 = await fetch(`${base}/q/api/v1/rules?type=alert`);
      expect(((await r2.json()) as { data: unknown }).data).toEqual(b1.data);
      const a = (await (await fetch(`${base}/q/api/v1/alerts`)).json()) as { data: { alerts: unknown[] } };
      expect(a.data.alerts).toHaveLength(1);
      const bad = await fetch(`${base}/r/api/v1/rules?type=x`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "type": not supported value "x"' });
      expect((await fetch(`${base}/r/api/v1/alerts`, { method: 'POST' })).status).toBe(405);
    } finally {
      server.close();
    }
  });

  test('parsePrometheusRules reads back what rulesJson writes', async () => {
    const snap = zeroTimes(await evaluatedSnapshot());
    const text = rulesJson(snap);
    expect(rulesJson(parsePrometheusRules(JSON.parse(text)))).toBe(text);
    expect(parseGoTime('2023-11-14T22:13:20.0015Z')).toBe(T0 + 1.5);
    expect(parseGoTime('0001-01-01T00:00:00Z')).toBeUndefined();
    expect(() => parsePrometheusRules({ nope: 1 })).toThrow('rules answer has no "groups" array');
  });

  test("partialResponseStrategy: Thanos's extra fields on groups and alerts", async () => {
    const snap = await evaluatedSnapshot();
    const d = JSON.parse(rulesJson(snap, undefined, { partialResponseStrategy: true })) as { groups: Record<string, any>[] };
    expect(d.groups.map((g) => g.partialResponseStrategy)).toEqual(['ABORT', 'ABORT']);
    expect(d.groups[1]!.rules[0].alerts[0].partialResponseStrategy).toBe('ABORT');
    expect(JSON.parse(alertsJson(snap, { partialResponseStrategy: true })).alerts[0].partialResponseStrategy).toBe('ABORT');
    expect(rulesJson(snap)).not.toContain('partialResponseStrategy');
  });
});
