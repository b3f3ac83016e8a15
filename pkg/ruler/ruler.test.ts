import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseRelabelConfigs } from '../block/index.js';
import { TesseraError } from '../errors/index.js';
import { Labels } from '../labels/index.js';
import { isStaleNaN } from '../promql/index.js';
import type { AlertingRule, RuleSample } from '../rules/index.js';
import { AppendErrorCode, type Appendable } from '../storage/index.js';
import { fakeClock, waitFor } from '../testutil/index.js';
import { Ruler, type RulerOptions } from './ruler.js';

const S = 1000;

/** memStorage is a committed-samples-only fake Appendable that refuses out-of-order samples like a head. */
function memStorage(): Appendable & { samples: RuleSample[] } {
  const samples: RuleSample[] = [];
  const newest = new Map<string, number>();
  return {
    samples,
    appender() {
      const batch: RuleSample[] = [];
      return {
        append(_ref, labels, t, v) {
          const last = newest.get(labels.key()) ?? -Infinity;
          if (t < last) throw new TesseraError(AppendErrorCode.OutOfOrder, 'out of order sample');
          batch.push({ labels, t, v });
          return 0;
        },
        appendHistogram() {
          throw new Error('no histograms');
        },
        async commit() {
          for (const s of batch) {
            newest.set(s.labels.key(), s.t);
            samples.push(s);
          }
        },
        async rollback() {},
      };
    },
  };
}

interface Received {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

function fakeAlertmanager(): Promise<{ url: string; received: Received[]; fail: { n: number }; server: Server }> {
  const received: Received[] = [];
  const fail = { n: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/prefix/api/v2/alerts') {
        res.writeHead(404).end();
        return;
      }
      if (fail.n > 0) {
        fail.n--;
        res.writeHead(503).end('down');
        return;
      }
      received.push(...(JSON.parse(body) as Received[]));
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`, received, fail, server })));
}

const RULES = `groups:
  - name: rec
    interval: 10s
    partial_response_strategy: warn
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
  - name: alerts
    interval: 10s
    rules:
      - alert: JobDown
        expr: up == 0
        for: 0s
        labels:
          severity: page
          replica: from-rule
        annotations:
          summary: "{{ $labels.job }} is down ({{ $value }}) in {{ $externalLabels.cluster }}"
`;

describe('Ruler', () => {
  let dir: string;
  let am: Awaited<ReturnType<typeof fakeAlertmanager>>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ruler-'));
    am = await fakeAlertmanager();
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise((r) => am.server.close(r));
  });

  function setup(extra: Partial<RulerOptions> = {}) {
    const file = join(dir, 'rules.yml');
    writeFileSync(file, RULES);
    const t0 = 1_767_225_600_000;
    const clock = fakeClock(t0);
    const storage = memStorage();
    const up = { value: 0 };
    const strategies: string[] = [];
    const registry = new Registry();
    const ruler = new Ruler({
      ruleFiles: [join(dir, '*.yml')],
      queryFunc: (strategy) => async (expr, t) => {
        strategies.push(`${expr}:${strategy}`);
        if (expr === 'sum by (job) (up)') return [{ labels: Labels.fromStrings('job', 'api'), t, v: up.value }];
        if (expr === 'up == 0') return up.value === 0 ? [{ labels: Labels.fromStrings('__name__', 'up', 'job', 'api', 'instance', 'a:1'), t, v: 0 }] : [];
        throw new Error(`unexpected query ${expr}`);
      },
      appendable: storage,
      alertmanagers: () => [am.url],
      labels: Labels.fromStrings('cluster', 'eu1', 'replica', 'r1'),
      alertLabelDrop: ['replica'],
      alertQueryURL: 'http://querier:10902',
      evalInterval: 60 * S,
      resendDelay: 60 * S,
      forGracePeriod: 600 * S,
      forOutageTolerance: 3600 * S,
      registry,
      clock,
      sender: { minBackoffMs: 1, maxBackoffMs: 2 },
      ...extra,
    });
    return { file, t0, clock, storage, up, strategies, registry, ruler };
  }

  test('evaluates through the query path per strategy, appends results without its labels, sends alerts with its labels set and label-drop applied', async () => {
    const { t0, clock, storage, up, strategies, registry, ruler } = setup();
    await ruler.start();
    expect(ruler.ready()).toBe(true);
    const groups = ruler.groups();
    expect(groups.map((g) => [g.name, g.options.partialResponseStrategy])).toEqual([['rec', 'warn'], ['alerts', 'abort']]);
    // evaluate both groups at least once
    const end = Math.max(...groups.map((g) => g.evalTimestamp(t0) + 10 * S));
    clock.advance(end);
    await waitFor('an alert at the Alertmanager', async () => am.received.length > 0);
    expect(strategies).toContain('sum by (job) (up):warn');
    expect(strategies).toContain('up == 0:abort');
    const a = am.received[0]!;
    // the ruler's labels are set (overwriting the rule's replica), then replica dropped
    expect(a.labels).toEqual({ alertname: 'JobDown', cluster: 'eu1', instance: 'a:1', job: 'api', severity: 'page' });
    expect(a.annotations).toEqual({ summary: 'api is down (0) in eu1' });
    expect(a.generatorURL).toBe('http://querier:10902/graph?g0.expr=up+%3D%3D+0&g0.tab=1');
    expect(Date.parse(a.endsAt)).toBeGreaterThan(Date.parse(a.startsAt));
    // ALERTS* are written once the `for` state was restored (after the group's second evaluation)
    for (const k of [1, 2]) {
      clock.advance(end + k * 10 * S);
      await waitFor(`evaluation ${k}`, async () => groups.every((g) => g.rules[0]!.lastEvaluation! >= end + (k - 1) * 10 * S));
    }
    await waitFor('results appended', async () => storage.samples.some((s) => s.labels.get('__name__') === 'ALERTS'));
    const names = new Set(storage.samples.map((s) => s.labels.toString()));
    expect(names).toContain('{__name__="job:up:sum", job="api"}');
    expect(names).toContain('{__name__="ALERTS", alertname="JobDown", alertstate="firing", instance="a:1", job="api", replica="from-rule", severity="page"}');
    // resolved: sent again with endsAt = resolution time
    up.value = 1;
    const g = groups[1]!;
    const next = g.evalTimestamp(t0) + 40 * S;
    clock.advance(Math.max(next, end + 30 * S));
    await waitFor('the resolution at the Alertmanager', async () => am.received.length > 1);
    expect(Date.parse(am.received[1]!.endsAt)).toBe(next);
    await waitFor('ALERTS marked stale', async () => storage.samples.some((s) => s.labels.get('__name__') === 'ALERTS' && isStaleNaN(s.v)));
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/thanos_rule_config_last_reload_successful 1/);
    expect(metrics).toMatch(/prometheus_rule_evaluations_total\{rule_group=".*rules.yml;alerts"\} [1-9]/);
    await ruler.stop();
  });

  test('a bad file on reload keeps the old rules and their alert state, reported with file and line in log, metric and status', async () => {
    const { file, t0, clock, registry, ruler } = setup();
    await ruler.start();
    const alerts = ruler.groups()[1]!;
    clock.advance(alerts.evalTimestamp(t0) + 10 * S);
    await waitFor('alert firing', async () => (alerts.rules[0] as AlertingRule).state() === 'firing');
    for (const [bad, want] of [
      ['groups:\n  - name: a\n    rules:\n      - record: x\n        expr: sum(\n', /rules\.yml: 5:15: group "a", rule 1, "x": could not parse expression/],
      ['groups:\n  - name: a\n   rules: []\n', /rules\.yml: yaml: line 3/],
      ['groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n', /rules\.yml: \d+:\d+: groupname: "a" is repeated in the same file/],
      ['groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        annotations:\n          s: "{{ $labels.job "\n', /rules\.yml: .*group "a", rule 1, "x": annotation "s": template: __alert_x:1: unclosed action/],
    ] as const) {
      writeFileSync(file, bad);
      const st = await ruler.reload();
      expect(st.ok).toBe(false);
      expect(st.errors.join('\n')).toMatch(want);
      expect(ruler.reloadStatus()).toBe(st);
      expect(ruler.groups().map((g) => g.name)).toEqual(['rec', 'alerts']);
      expect(await registry.metrics()).toMatch(/thanos_rule_config_last_reload_successful 0/);
    }
    writeFileSync(file, RULES);
    expect((await ruler.reload()).ok).toBe(true);
    expect(((ruler.groups()[1]!.rules[0]) as AlertingRule).state()).toBe('firing');
    await ruler.stop();
  });

  test('start fails naming the file and line of a bad rule file', async () => {
    const { file, ruler } = setup();
    writeFileSync(file, 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: rate(up[5m]\n');
    await expect(ruler.start()).rejects.toThrow(/rules\.yml: 5:15: group "g", rule 1, "x": could not parse expression/);
    expect(ruler.ready()).toBe(false);
  });

  test('alerts are retried with backoff while no Alertmanager accepts them', async () => {
    const { t0, clock, ruler } = setup();
    am.fail.n = 3;
    await ruler.start();
    clock.advance(ruler.groups()[1]!.evalTimestamp(t0) + 10 * S);
    await waitFor('the alert after retries', async () => am.received.length > 0);
    expect(am.fail.n).toBe(0);
    expect(await ruler.metrics.alertSendErrors.get()).toMatchObject({ values: [{ value: 3, labels: { alertmanager: `${am.url}/api/v2/alerts` } }] });
    await ruler.stop();
  });

  test('--alert.relabel-config applies to sent alerts after the labels are set and dropped', async () => {
    const { t0, clock, ruler } = setup({ alertRelabel: parseRelabelConfigs('- target_label: team\n  replacement: sre\n- action: labeldrop\n  regex: instance\n- source_labels: [cluster]\n  target_label: where\n') });
    await ruler.start();
    clock.advance(ruler.groups()[1]!.evalTimestamp(t0) + 10 * S);
    await waitFor('the alert', async () => am.received.length > 0);
    expect(am.received[0]!.labels).toEqual({ alertname: 'JobDown', cluster: 'eu1', job: 'api', severity: 'page', team: 'sre', where: 'eu1' });
    await ruler.stop();
  });
});
