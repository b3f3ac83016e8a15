import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, requireBinary, waitFor } from '../../pkg/testutil/index.js';
import { ServiceGroup, startSidecar, type Service } from './services.js';
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

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-ruler-e2e-'));
    toggle = await startToggleTarget();
    const prom = await services.add(startScrapingPrometheus(prometheusBin!, dir, [toggle.address], { prom: 'p1', replica: 'a' }));
    const sidecar = await services.add(startSidecar({ prometheusUrl: prom.httpUrl, tsdbPath: join(dir, 'prom-data') }));
    am = await services.add(startAlertmanager(alertmanagerBin!, dir));
    await mkdir(join(dir, 'rules'));
    await writeFile(join(dir, 'rules', 'toggles.yml'), RULES);
    ports = await rulerPorts();
    querierHttp = `127.0.0.1:${await freePort()}`;
    ruler = await services.add(
      startRuler(ports, [
        `--rule-file=${join(dir, 'rules', '*.yml')}`,
        `--query=${querierHttp}`,
        `--alertmanagers.url=${am.httpUrl}`,
        '--label=ruler="r"',
        '--label=replica="r1"',
        '--alert.label-drop=replica',
        '--eval-interval=1s',
        '--resend-delay=2s',
        '--alert.query-url=http://querier.example:10902',
        `--data-dir=${join(dir, 'ruler-data')}`,
      ]),
    );
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
    const [alert] = await waitAlerts(am, 'ToggleOn at the Alertmanager', (as) => (as.length > 0 ? as : undefined));
    expect(alert!.labels).toEqual({ alertname: 'ToggleOn', instance: toggle.address, job: 'toggle', name: 'a', prom: 'p1', ruler: 'r', severity: 'page' });
    expect(alert!.annotations).toEqual({ summary: 'toggle a is 1', where: 'r' });
    expect(alert!.generatorURL).toBe('http://querier.example:10902/graph?g0.expr=test_toggle+%3E+0&g0.tab=1');
    expect(alert!.status.state).toBe('active');
    // the ruler's own API agrees
    const api = (await (await fetch(`${ruler.httpUrl}/api/v1/alerts`)).json()) as { data: { alerts: { state: string; labels: Record<string, string> }[] } };
    expect(api.data.alerts.map((a) => [a.state, a.labels.alertname])).toEqual([['firing', 'ToggleOn']]);
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
});
