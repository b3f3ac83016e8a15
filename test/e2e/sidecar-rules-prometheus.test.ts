import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseGoTime, parsePrometheusRules, rulesJson } from '../../pkg/api/index.js';
import { Labels } from '../../pkg/labels/index.js';
import { Querier } from '../../pkg/querier/index.js';
import { StoreGrpcServer, protoToRulesSnapshot, type StoreServer } from '../../pkg/store/index.js';
import { RulesRequestType } from '../../pkg/storepb/index.js';
import { freePort, requireBinary, startProcess, testQuerierOptions, waitFor, waitForHttp, type ManagedProcess } from '../../pkg/testutil/index.js';
import { PrometheusClient, prometheusRulesServer } from '../../pkg/sidecar/index.js';

const prometheus = requireBinary('prometheus');

const RULES = `groups:
  - name: self
    rules:
      - alert: SelfUp
        expr: up == 1
        labels: { severity: info }
        annotations: { summary: '{{ $labels.job }} is up ({{ $value }})' }
      - alert: Never
        expr: up == 2
        for: 5m
      - record: job:up:sum
        expr: sum by (job) (up)
  - name: consts
    interval: 2s
    rules:
      - record: answer
        expr: vector(42)
        labels: { kind: const }
`;

type Json = Record<string, any>;

const timeKeys = new Set(['lastEvaluation', 'activeAt', 'keepFiringSince']);
/**
 * msTimes turns RFC 3339 times into ms numbers (ours are float ms: about 0.25 µs resolution today,
 * not 1 ns) and drops the querier's Thanos-only partialResponseStrategy fields.
 */
const msTimes = (d: Json): Json =>
  JSON.parse(JSON.stringify(d), (k, v: unknown) => (k === 'partialResponseStrategy' ? undefined : timeKeys.has(k) && typeof v === 'string' ? (parseGoTime(v) ?? 0) : v)) as Json;
/** approx makes an expected answer tolerate that: times within 0.5 µs, evaluation times within 1e-12 s. */
const approx = (d: Json): Json =>
  JSON.parse(JSON.stringify(msTimes(d)), (k, v: unknown) => (typeof v === 'number' && timeKeys.has(k) ? expect.closeTo(v, 3) : typeof v === 'number' && k === 'evaluationTime' ? expect.closeTo(v, 12) : v)) as Json;

/** stable drops what changes from one evaluation to the next and what 2.42 writes differently. */
function stable(data: Json, dropLabels: readonly string[] = []): Json {
  return {
    groups: (data.groups as Json[])
      .map((g) => ({
        name: g.name,
        file: g.file,
        interval: g.interval,
        limit: g.limit,
        rules: (g.rules as Json[])
          .map((r): Json => {
            const { evaluationTime: _e, lastEvaluation: _l, partialResponseStrategy: _p, ...rest } = r;
            const labels = { ...(r.labels ?? {}) };
            for (const d of dropLabels) delete labels[d];
            return { ...rest, labels };
          })
          .sort((a, b) => (a.name < b.name ? -1 : 1)),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
  };
}

describe.skipIf(prometheus === undefined)("rules of a real Prometheus through the sidecar's Rules API", () => {
  let dir: string;
  let prom: ManagedProcess;
  let promUrl: string;
  let grpc: StoreGrpcServer;
  let querier: Querier;
  let client: PrometheusClient;
  const ext = Labels.fromRecord({ cluster: 'p1', replica: 'a' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-prom-rules-'));
    const port = await freePort();
    await writeFile(join(dir, 'rules.yml'), RULES);
    await writeFile(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  external_labels: { cluster: p1, replica: a }\nrule_files: ['${join(dir, 'rules.yml')}']\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
    );
    prom = startProcess(prometheus!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`]);
    promUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${promUrl}/-/ready`, 60_000);
    client = new PrometheusClient({ url: promUrl });
    // every rule evaluated and the alert firing
    await waitFor(
      'Prometheus rules evaluated',
      async () => {
        const d = (await client.rules(new URLSearchParams())) as Json;
        const rules = (d.groups as Json[]).flatMap((g) => g.rules as Json[]);
        return rules.length === 4 && rules.every((r) => r.health === 'ok') && rules.some((r) => r.name === 'SelfUp' && r.state === 'firing');
      },
      60_000,
      200,
    );
    const store: StoreServer = {
      info: async () => ({ labelSets: [ext], componentType: 'sidecar', store: { minTime: 0, maxTime: 1 } }),
      series: async () => {},
      labelNames: async () => ({ names: [], warnings: [] }),
      labelValues: async () => ({ values: [], warnings: [] }),
    };
    grpc = new StoreGrpcServer(store, { rules: prometheusRulesServer(client, () => ext) });
    const grpcPort = await grpc.listen('127.0.0.1:0');
    querier = new Querier(testQuerierOptions([`127.0.0.1:${grpcPort}`], { partialResponse: false }));
    await querier.start();
  }, 120_000);

  afterAll(async () => {
    await querier?.stop();
    await grpc?.stop(100);
    await prom?.stop(10_000);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test("Prometheus's answer parsed and rendered again is Prometheus's answer (times to the microsecond)", async () => {
    const data = (await client.rules(new URLSearchParams())) as Json;
    const again = JSON.parse(rulesJson(parsePrometheusRules(data))) as Json;
    // 2.42 leaves out empty recording-rule labels; 3.x (and we) write {}
    for (const g of data.groups as Json[]) for (const r of g.rules as Json[]) r.labels ??= {};
    expect(msTimes(again)).toEqual(approx(data));
  });

  test('the Rules API sends every group with external labels on rules, filtered by type', async () => {
    const srv = prometheusRulesServer(client, () => ext);
    const frames = await srv.rules({ type: RulesRequestType.ALERT, partialResponseStrategy: 1, matcherString: [], ruleName: [], ruleGroup: [], file: [] }, new AbortController().signal);
    const snap = protoToRulesSnapshot(frames.flatMap((f) => (f.group === undefined ? [] : [f.group])));
    expect(snap.groups.map((g) => g.name).sort()).toEqual(['consts', 'self']); // groups left empty by the type filter are kept
    const self = snap.groups.find((g) => g.name === 'self')!;
    expect(self.rules.map((r) => r.name)).toEqual(['SelfUp', 'Never']);
    expect(self.rules[0]!.labels.toRecord()).toEqual({ cluster: 'p1', replica: 'a', severity: 'info' });
  });

  test("the querier's /api/v1/rules over the sidecar matches Prometheus's own (external labels added, replica removed)", async () => {
    const own = (await client.rules(new URLSearchParams())) as Json;
    for (const g of own.groups as Json[]) for (const r of g.rules as Json[]) r.labels ??= {};
    const res = await fetch(`http://127.0.0.1:${querier.httpPort}/api/v1/rules`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    const got = stable(body.data, ['cluster']);
    expect(msTimes(got)).toEqual(approx(stable(own)));
    // the external label is there, the replica label is not
    const selfUp = (body.data.groups as Json[]).flatMap((g) => g.rules as Json[]).find((r) => r.name === 'SelfUp')!;
    expect(selfUp.labels).toEqual({ cluster: 'p1', severity: 'info' });
    expect(selfUp.alerts[0].annotations.summary).toBe('self is up (1)');
    const alerts = (await (await fetch(`http://127.0.0.1:${querier.httpPort}/api/v1/alerts`)).json()) as Json;
    const promAlerts = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as Json;
    expect(msTimes(alerts.data)).toEqual(approx(promAlerts.data));
  });
});
