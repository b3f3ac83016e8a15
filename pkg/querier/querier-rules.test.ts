import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { RuleManager, TemplateExpander, type RuleGroupDeps } from '../rules/index.js';
import { StoreGrpcServer, StoreError, GrpcCode, snapshotRulesServer, type StoreServer } from '../store/index.js';
import type { InfoResponse } from '../storepb/index.js';
import { Querier } from './querier-service.js';
import { testQuerierOptions } from '../testutil/index.js';

const S = 1000;
const T0 = 1_700_000_000_000;
const FILE = `groups:
  - name: alerts
    rules:
      - alert: HighLoad
        expr: load > 1
        for: 1m
        labels: { severity: page }
        annotations: { summary: 'load {{ $value }}' }
      - record: job:load:max
        expr: max by (job) (load)
`;
const EXTRA = `groups:
  - name: only-r1
    rules:
      - record: r1:only
        expr: vector(1)
`;

function fakeStore(info: InfoResponse): StoreServer {
  return {
    info: async () => info,
    series: async () => {},
    labelNames: async () => ({ names: [], warnings: [] }),
    labelValues: async () => ({ values: [], warnings: [] }),
  };
}

/** startRuler evaluates the rule files `evals` times (one minute apart) and serves StoreAPI + Rules API. */
async function startRuler(replica: string, files: { path: string; text: string }[], evals: number): Promise<StoreGrpcServer> {
  const m = new RuleManager({ defaultInterval: 60 * S, defaultQueryOffset: 0, resendDelay: 60 * S, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 600 * S } });
  expect((await m.update(files)).errors).toEqual([]);
  const deps: RuleGroupDeps = {
    query: async (expr, t) => (expr.startsWith('vector') ? [{ labels: Labels.EMPTY, t, v: 1 }] : [{ labels: Labels.fromStrings('__name__', 'load', 'job', 'node'), t, v: 3 }]),
    append: async () => {},
    notify: () => {},
    templates: { expander: new TemplateExpander({ externalURL: '' }), externalLabels: new Map(), externalURL: '' },
  };
  for (let i = 0; i < evals; i++) for (const g of m.groups()) await g.eval(T0 + i * 60 * S, deps);
  const ext = Labels.fromRecord({ cluster: 'c1', replica });
  const server = new StoreGrpcServer(fakeStore({ labelSets: [ext], componentType: 'rule', store: { minTime: 0, maxTime: 1 }, rules: true }), {
    rules: snapshotRulesServer(() => m.snapshot(), { externalLabels: ext }),
  });
  await server.listen('127.0.0.1:0');
  return server;
}

describe('querier /api/v1/rules and /api/v1/alerts over the Rules gRPC API', () => {
  let r1: StoreGrpcServer;
  let r2: StoreGrpcServer;
  let broken: StoreGrpcServer;
  let plainStore: StoreGrpcServer;
  let querier: Querier;
  let strict: Querier;
  let top: Querier;

  beforeAll(async () => {
    r1 = await startRuler('r1', [{ path: 'rules.yml', text: FILE }, { path: 'extra.yml', text: EXTRA }], 2); // HighLoad firing
    r2 = await startRuler('r2', [{ path: 'rules.yml', text: FILE }], 1); // HighLoad pending
    broken = new StoreGrpcServer(fakeStore({ labelSets: [], componentType: 'rule' }), {
      rules: { rules: async () => Promise.reject(new StoreError(GrpcCode.Unavailable, 'rules unavailable')) },
    });
    await broken.listen('127.0.0.1:0');
    // a StoreAPI endpoint without the Rules API: not asked (else UNIMPLEMENTED would be a second warning)
    plainStore = new StoreGrpcServer(fakeStore({ labelSets: [], componentType: 'store', store: { minTime: 0, maxTime: 1 } }));
    await plainStore.listen('127.0.0.1:0');
    querier = new Querier(testQuerierOptions([r1, r2, broken, plainStore].map((s) => `127.0.0.1:${s.port}`)));
    strict = new Querier(testQuerierOptions([r1, broken].map((s) => `127.0.0.1:${s.port}`), { partialResponse: false }));
    await querier.start();
    await strict.start();
    // a querier over the first querier's gRPC: it serves the Rules API too (queriers stack)
    top = new Querier(testQuerierOptions([`127.0.0.1:${querier.grpcPort}`]));
    await top.start();
  });

  afterAll(async () => {
    await top?.stop();
    await querier?.stop();
    await strict?.stop();
    for (const s of [r1, r2, broken, plainStore]) await s?.stop(100);
  });

  const get = async (q: Querier, path: string) => {
    const res = await fetch(`http://127.0.0.1:${q.httpPort}${path}`);
    return { status: res.status, body: (await res.json()) as any };
  };

  test('HA rulers are merged: one copy per rule without the replica label, the most critical state kept', async () => {
    const { status, body } = await get(querier, '/api/v1/rules');
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings[0]).toContain('rules unavailable');
    const groups = body.data.groups as any[];
    expect(groups.map((g) => `${g.file};${g.name}`)).toEqual(['extra.yml;only-r1', 'rules.yml;alerts']);
    expect(groups[1].partialResponseStrategy).toBe('ABORT'); // as the Thanos querier writes it
    const rules = groups[1].rules as any[];
    expect(rules.map((r) => `${r.type}:${r.name}`)).toEqual(['alerting:HighLoad', 'recording:job:load:max']);
    expect(rules[0]).toMatchObject({ state: 'firing', labels: { cluster: 'c1', severity: 'page' }, duration: 60, query: 'load > 1', health: 'ok' });
    expect(rules[0].alerts).toEqual([
      { labels: { alertname: 'HighLoad', job: 'node', severity: 'page' }, annotations: { summary: 'load 3' }, state: 'firing', activeAt: '2023-11-14T22:13:20Z', value: '3e+00', partialResponseStrategy: 'ABORT' },
    ]);
    // the recording rule: the most recently evaluated copy (r1 evaluated twice)
    expect(rules[1]).toMatchObject({ labels: { cluster: 'c1' }, lastEvaluation: '2023-11-14T22:14:20Z' });
    expect(groups[0].rules[0].labels).toEqual({ cluster: 'c1' });
  });

  test('filters are applied (type, rule_name[], match[], exclude_alerts) and alerts are deduplicated', async () => {
    const t = await get(querier, '/api/v1/rules?type=record&match[]={cluster="c1"}');
    expect((t.body.data.groups as any[]).map((g) => g.rules.map((r: any) => r.name))).toEqual([['r1:only'], ['job:load:max']]);
    const n = await get(querier, '/api/v1/rules?rule_name[]=HighLoad&exclude_alerts=true');
    expect(n.body.data.groups).toHaveLength(1);
    expect(n.body.data.groups[0].rules[0].alerts).toBeNull();
    const a = await get(querier, '/api/v1/alerts');
    expect(a.status).toBe(200);
    expect(a.body.data.alerts).toHaveLength(1);
    expect(a.body.data.alerts[0]).toMatchObject({ state: 'firing', labels: { alertname: 'HighLoad' } });
  });

  test('without partial response a failing rules endpoint fails the request', async () => {
    const { status, body } = await get(strict, '/api/v1/rules');
    expect(status).toBe(500);
    expect(body.errorType).toBe('internal');
    expect(body.error).toMatch(/^error retrieving rules: fetching rules from rules client 127\.0\.0\.1:\d+: .*rules unavailable/);
  });

  test('a querier over a querier sees the same rules (the querier serves thanos.Rules)', async () => {
    const below = await get(querier, '/api/v1/rules');
    const above = await get(top, '/api/v1/rules');
    expect(above.status).toBe(200);
    expect(above.body.data).toEqual(below.body.data);
    expect(above.body.warnings).toEqual(below.body.warnings);
    const alerts = await get(top, '/api/v1/alerts');
    expect(alerts.body.data.alerts).toHaveLength(1);
  });
});
