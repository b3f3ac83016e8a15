import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, requireBinary, waitFor } from '../../pkg/testutil/index.js';
import { ServiceGroup, startQuery, startSidecar, startStore, type Service } from './services.js';
import { amAlerts, rulerPorts, startAlertmanager, startQuerierAt, startRuler, startScrapingPrometheus, startToggleTarget, waitAlerts, type RulerPorts, type ToggleTarget } from './ruler-services.js';

const prometheusBin = requireBinary('prometheus');
const alertmanagerBin = requireBinary('prometheus-alertmanager');

const RULES = `groups:
  - name: toggles
    interval: 1s
    rules:
      - record: name:test_toggle:sum
        expr: sum by (name) (test_toggle)
      - alert: ToggleOn
        expr: test_toggle > 0
        for: 0s
        labels:
          severity: page
        annotations:
          summary: "toggle {{ $labels.name }} is {{ $value }}"
          where: "{{ $externalLabels.ruler }}"
      - alert: ToggleHeld
        expr: test_toggle > 0
        for: 3s
`;

interface QueryAnswer {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function instant(base: string, expr: string, extra: Record<string, string> = {}): Promise<QueryAnswer['data']['result']> {
  const res = await fetch(`${base}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr, ...extra }) });
  const body = (await res.json()) as QueryAnswer;
  if (body.status !== 'success') throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
  return body.data.result;
}

describe.skipIf(prometheusBin === undefined || alertmanagerBin === undefined)('ruler end to end: Prometheus, sidecar, querier, ruler, Alertmanager', () => {
  const services = new ServiceGroup();
  let dir: string;
  let toggle: ToggleTarget;
  let am: Service;
  let querier: Service;
  let ruler: Service;
  let ports: RulerPorts;
  let querierHttp: string;
  let rulerArgs: string[];
  let sidecar: Service;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-ruler-e2e-'));
    toggle = await startToggleTarget();
    const prom = await services.add(startScrapingPrometheus(prometheusBin!, dir, [toggle.address], { prom: 'p1', replica: 'a' }));
    sidecar = await services.add(startSidecar({ prometheusUrl: prom.httpUrl, tsdbPath: join(dir, 'prom-data') }));
    am = await services.add(startAlertmanager(alertmanagerBin!, dir));
    await mkdir(join(dir, 'rules'));
    await writeFile(join(dir, 'rules', 'toggles.yml'), RULES);
    ports = await rulerPorts();
    querierHttp = `127.0.0.1:${await freePort()}`;
    rulerArgs = [
        `--rule-file=${join(dir, 'rules', '*.yml')}`,
        `--query=${querierHttp}`,
        `--alertmanagers.url=${am.httpUrl}`,
        '--label=ruler="r"',
        '--label=replica="r1"',
        '--alert.label-drop=replica',
        '--eval-interval=1s',
        '--for-grace-period=2s',
        '--alert.query-url=http://querier.example:10902',
        `--data-dir=${join(dir, 'ruler-data')}`,
        `--objstore.config=type: FILESYSTEM\nconfig:\n  directory: ${join(dir, 'bucket')}\n`,
        '--tsdb.block-duration=10s',
        '--shipper.sync-interval=1s',
    ];
    ruler = await services.add(startRuler(ports, rulerArgs));
    querier = await services.add(startQuerierAt(querierHttp, [sidecar.grpcAddress!, ports.grpc], ['replica']));
  }, 240_000);

  afterAll(async () => {
    await services.stopAll();
    await toggle?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('an alert fires and reaches Alertmanager with rendered annotations and the ruler\'s labels, and resolves when its condition stops', async () => {
    // the condition is false: the rule evaluates (healthy) and nothing is sent
    await waitFor('the ruler evaluating through the querier', async () => {
      const body = (await (await fetch(`${ruler.httpUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { health: string; lastEvaluation: string }[] }[] } };
      return body.data.groups[0]?.rules.every((r) => r.health === 'ok') === true;
    }, 90_000);
    expect(await amAlerts(am)).toEqual([]);
    toggle.value = 1;
    const [alert] = await waitAlerts(am, 'ToggleOn at the Alertmanager', (as) => (as.length > 0 ? as.filter((a) => a.labels.alertname === 'ToggleOn') : undefined));
    expect(alert!.labels).toEqual({ alertname: 'ToggleOn', instance: toggle.address, job: 'toggle', name: 'a', prom: 'p1', ruler: 'r', severity: 'page' });
    expect(alert!.annotations).toEqual({ summary: 'toggle a is 1', where: 'r' });
    expect(alert!.generatorURL).toBe('http://querier.example:10902/graph?g0.expr=test_toggle+%3E+0&g0.tab=1');
    expect(alert!.status.state).toBe('active');
    // the ruler's own API agrees
    const api = (await (await fetch(`${ruler.httpUrl}/api/v1/alerts`)).json()) as { data: { alerts: { state: string; labels: Record<string, string> }[] } };
    expect(api.data.alerts.filter((a) => a.labels.alertname === 'ToggleOn').map((a) => a.state)).toEqual(['firing']);
    toggle.value = 0;
    await waitAlerts(am, 'ToggleOn resolved at the Alertmanager', (as) => as.length === 0);
  }, 180_000);

  test('the recording rule\'s series is queryable through a querier that lists the ruler, with the ruler\'s labels', async () => {
    const got = await waitFor('name:test_toggle:sum through the querier', async () => {
      const r = await instant(querier.httpUrl, 'name:test_toggle:sum', { dedup: 'false' });
      return r.length > 0 ? r : undefined;
    }, 60_000);
    expect(got.map((s) => s.metric)).toEqual([{ __name__: 'name:test_toggle:sum', name: 'a', replica: 'r1', ruler: 'r' }]);
    // deduplicated on `replica` like Prometheus replicas
    const dedup = await instant(querier.httpUrl, 'name:test_toggle:sum');
    expect(dedup.map((s) => s.metric)).toEqual([{ __name__: 'name:test_toggle:sum', name: 'a', ruler: 'r' }]);
    // ALERTS of the ruler, with its labels, through the querier
    const alerts = await instant(querier.httpUrl, 'count_over_time(ALERTS{alertname="ToggleOn",alertstate="firing"}[10m])');
    expect(alerts.map((s) => s.metric.ruler)).toEqual(['r']);
  }, 120_000);

  test('kill -9 mid-interval and restart: no recorded sample lost, a firing alert stays firing without re-entering pending', async () => {
    toggle.value = 1;
    // ToggleHeld (for: 3s) fires, and the recording rule has written a few samples
    await waitAlerts(am, 'ToggleHeld at the Alertmanager', (as) => as.some((a) => a.labels.alertname === 'ToggleHeld'));
    const rulerApi = async (): Promise<{ state: string; activeAt: string }[]> => {
      const body = (await (await fetch(`${ruler.httpUrl}/api/v1/alerts`)).json()) as { data: { alerts: { state: string; activeAt: string; labels: Record<string, string> }[] } };
      return body.data.alerts.filter((a) => a.labels.alertname === 'ToggleHeld');
    };
    const [before] = await waitFor('ToggleHeld firing in the ruler', async () => {
      const as = await rulerApi();
      return as.length === 1 && as[0]!.state === 'firing' ? as : undefined;
    });
    // the ruler's own samples, read straight from its StoreAPI through the querier (replica r1, no dedup)
    const recorded = async (): Promise<number[]> => {
      const res = await fetch(`${querier.httpUrl}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: 'name:test_toggle:sum{replica="r1"}[15m]', dedup: 'false' }) });
      const body = (await res.json()) as { data: { result: { values: [number, string][] }[] }; warnings?: string[] };
      if (body.warnings !== undefined && body.warnings.length > 0) throw new Error(`partial answer: ${body.warnings.join('; ')}`);
      return (body.data.result[0]?.values ?? []).map(([t]) => Math.round(t * 1000));
    };
    const beforeKill = await waitFor('a few recorded samples', async () => {
      const ts = await recorded();
      return ts.length >= 3 ? ts : undefined;
    });
    // kill -9 between two evaluations (its last commit is in the WAL), then restart on the same ports
    await ruler.kill();
    const killedAt = Date.now();
    const lastBeforeKill = beforeKill[beforeKill.length - 1]!;
    ruler = await services.add(startRuler(ports, rulerArgs, 'tessera rule (restarted)'));
    expect(ruler.process.output()).toMatch(/msg="TSDB opened".* samples=[1-9]/);
    const afterRestart = await waitFor('recorded samples after the restart through the querier', async () => {
      const ts = await recorded();
      return ts.some((t) => t > killedAt) ? ts : undefined;
    }, 90_000);
    // every sample recorded before the kill is still there
    const missing = beforeKill.filter((t) => !afterRestart.includes(t));
    expect(missing).toEqual([]);
    expect(afterRestart.filter((t) => t <= lastBeforeKill).length).toBeGreaterThanOrEqual(beforeKill.length);
    // the alert is firing again with its old activeAt (whole seconds, from ALERTS_FOR_STATE), never pending in between
    const [after] = await waitFor('ToggleHeld firing again after the restart', async () => {
      const as = await rulerApi();
      return as.length === 1 && as[0]!.state === 'firing' ? as : undefined;
    }, 60_000);
    expect(Math.floor(Date.parse(after!.activeAt) / 1000)).toBe(Math.floor(Date.parse(before!.activeAt) / 1000));
    // ALERTS{alertstate="pending"} has samples before the alert first fired (for: 3s at 1s evaluations), none after the restart
    const res = await fetch(`${querier.httpUrl}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: 'ALERTS{alertname="ToggleHeld",alertstate="pending",replica="r1"}[15m]', dedup: 'false' }) });
    const pendingTs = ((await res.json()) as { data: { result: { values: [number, string][] }[] } }).data.result.flatMap((r) => r.values.map(([t]) => Math.round(t * 1000)));
    expect(pendingTs.length).toBeGreaterThan(0);
    expect(pendingTs.filter((t) => t > lastBeforeKill)).toEqual([]);
    // Alertmanager kept the alert active throughout (endsAt = last send + 4 × resend delay)
    expect((await amAlerts(am)).filter((a) => a.labels.alertname === 'ToggleHeld').map((a) => a.status.state)).toEqual(['active']);
    toggle.value = 0;
  }, 240_000);

  test('with a short --tsdb.block-duration the ruler\'s blocks reach the bucket (meta.json with source ruler and its labels)', async () => {
    const metas = await waitFor('a ruler block in the bucket', async () => {
      const names = await readdir(join(dir, 'bucket')).catch(() => [] as string[]);
      const out: { ulid: string; meta: { minTime: number; maxTime: number; thanos: { source: string; labels: Record<string, string> } } }[] = [];
      for (const n of names) {
        const text = await readFile(join(dir, 'bucket', n, 'meta.json'), 'utf8').catch(() => undefined);
        if (text !== undefined) out.push({ ulid: n, meta: JSON.parse(text) as (typeof out)[number]['meta'] });
      }
      return out.length > 0 ? out : undefined;
    }, 90_000);
    for (const { meta } of metas) {
      expect(meta.thanos.source).toBe('ruler');
      expect(meta.thanos.labels).toEqual({ replica: 'r1', ruler: 'r' });
      expect(meta.maxTime - meta.minTime).toBeLessThanOrEqual(10_000);
    }
    // uploaded blocks carry the index and chunks with the meta.json
    const files = await readdir(join(dir, 'bucket', metas[0]!.ulid));
    expect(files.sort()).toEqual(expect.arrayContaining(['chunks', 'index', 'meta.json']));
    // a store gateway over the bucket serves the recorded series from those blocks, with the ruler's labels
    const cfg = join(dir, 'bucket.yml');
    await writeFile(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${join(dir, 'bucket')}\n`);
    const store = await services.add(startStore({ objstoreConfigFile: cfg, dataDir: join(dir, 'store-data') }));
    const q2 = await services.add(startQuery({ endpoints: [store.grpcAddress!] }));
    const { minTime, maxTime } = metas[0]!.meta;
    const res = await fetch(`${q2.httpUrl}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: `name:test_toggle:sum[${Math.ceil((maxTime - minTime) / 1000)}s]`, time: String(maxTime / 1000) }) });
    const body = (await res.json()) as { data: { result: { metric: Record<string, string>; values: unknown[] }[] } };
    expect(body.data.result.map((r) => r.metric)).toEqual([{ __name__: 'name:test_toggle:sum', name: 'a', replica: 'r1', ruler: 'r' }]);
    expect(body.data.result[0]!.values.length).toBeGreaterThan(0);
  }, 120_000);

  test('--endpoint: the embedded engine over StoreAPI endpoints, replicas deduplicated on --query.replica-label', async () => {
    await mkdir(join(dir, 'rules-endpoint'));
    await writeFile(join(dir, 'rules-endpoint', 'r.yml'), 'groups:\n  - name: e\n    interval: 1s\n    rules:\n      - alert: ToggleSeen\n        expr: test_toggle >= 0\n');
    const r2 = await services.add(
      startRuler(await rulerPorts(), [`--rule-file=${join(dir, 'rules-endpoint', '*.yml')}`, `--endpoint=${sidecar.grpcAddress!}`, '--query.replica-label=replica', '--label=ruler="e"', `--data-dir=${join(dir, 'ruler-e-data')}`], 'tessera rule --endpoint'),
    );
    const alerts = await waitFor('ToggleSeen firing in the --endpoint ruler', async () => {
      const body = (await (await fetch(`${r2.httpUrl}/api/v1/alerts`)).json()) as { data: { alerts: { state: string; labels: Record<string, string> }[] } };
      return body.data.alerts.length > 0 && body.data.alerts.every((a) => a.state === 'firing') ? body.data.alerts : undefined;
    }, 60_000);
    // Prometheus's replica label is gone (deduplicated), its other external label kept
    expect(alerts.map((a) => a.labels)).toEqual([{ alertname: 'ToggleSeen', instance: toggle.address, job: 'toggle', name: 'a', prom: 'p1' }]);
    await r2.stop();
  }, 120_000);

  test('an HA pair of rulers (replica r1, r2; --alert.label-drop=replica): one alert at the Alertmanager, one series and one rule group through a deduplicating querier', async () => {
    const r2Args = rulerArgs.filter((a) => !a.startsWith('--label=replica') && !a.startsWith('--data-dir') && !a.startsWith('--objstore')).concat(['--label=replica="r2"', `--data-dir=${join(dir, 'ruler-r2-data')}`]);
    const r2 = await services.add(startRuler(await rulerPorts(), r2Args, 'tessera rule r2'));
    const q3 = await services.add(startQuery({ endpoints: [sidecar.grpcAddress!, ports.grpc, r2.grpcAddress!], replicaLabels: ['replica'] }));
    toggle.set(1);
    const sent = async (svc: Service): Promise<number> => Number(/^thanos_alert_sender_alerts_sent_total (\S+)$/m.exec(await (await fetch(`${svc.httpUrl}/metrics`)).text())?.[1] ?? 0);
    const r2Before = await sent(r2);
    await waitFor('both rulers sending ToggleOn', async () => {
      const on = async (svc: Service) => ((await (await fetch(`${svc.httpUrl}/api/v1/alerts`)).json()) as { data: { alerts: { state: string; labels: Record<string, string> }[] } }).data.alerts.some((a) => a.labels.alertname === 'ToggleOn' && a.state === 'firing');
      return (await on(ruler)) && (await on(r2)) && (await sent(r2)) > r2Before;
    }, 60_000);
    const listed = await waitAlerts(am, 'ToggleOn at the Alertmanager', (as) => {
      const t = as.filter((a) => a.labels.alertname === 'ToggleOn');
      return t.length > 0 ? t : undefined;
    });
    expect(listed.map((a) => a.labels.replica)).toEqual([undefined]);
    // the recorded series: two replicas, one after dedup
    const raw = await waitFor('both rulers\' series through the querier', async () => {
      const r = await instant(q3.httpUrl, 'name:test_toggle:sum', { dedup: 'false' });
      return r.length === 2 ? r : undefined;
    }, 60_000);
    expect(raw.map((s) => s.metric.replica).sort()).toEqual(['r1', 'r2']);
    const dedup = await instant(q3.httpUrl, 'name:test_toggle:sum');
    expect(dedup.map((s) => s.metric)).toEqual([{ __name__: 'name:test_toggle:sum', name: 'a', ruler: 'r' }]);
    // the querier's rules API gathers both rulers' groups over the Rules gRPC API and deduplicates them
    const rules = (await (await fetch(`${q3.httpUrl}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
    expect(rules.data.groups.map((g) => g.name)).toEqual(['toggles']);
    toggle.set(0);
    await waitAlerts(am, 'ToggleOn resolved', (as) => !as.some((a) => a.labels.alertname === 'ToggleOn'));
    await r2.stop();
  }, 180_000);
});
