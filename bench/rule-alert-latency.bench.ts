/**
 * Issue 11: alert latency of `tessera rule`, from the scrape that makes the condition true to the
 * Alertmanager receiving the alert, with 1 s scrape and evaluation intervals and `for: 0s`.
 * Real processes: Prometheus scraping a target the bench flips, `tessera sidecar`, `tessera query`,
 * `tessera rule` (querying the querier over HTTP) and a real Alertmanager; the ruler also sends to
 * a recorder in this process that notes the arrival time (the real Alertmanager must list the
 * alert too). Repeated ROUNDS times (each round waits for the resolution first); median and max.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, waitFor } from '../pkg/testutil/index.js';
import { amAlerts, rulerPorts, startAlertmanager, startQuerierAt, startRuler, startScrapingPrometheus, startToggleTarget } from '../test/e2e/ruler-services.js';
import { ServiceGroup, startSidecar } from '../test/e2e/services.js';
import type { BenchResult } from './harness.js';

const ROUNDS = 8;

interface Received {
  at: number;
  labels: Record<string, string>;
  endsAt: string;
}

export async function run(): Promise<BenchResult[]> {
  const prometheusBin = findBinary('prometheus');
  const alertmanagerBin = findBinary('prometheus-alertmanager');
  if (prometheusBin === undefined || alertmanagerBin === undefined) {
    process.stderr.write('rule-alert-latency: prometheus or prometheus-alertmanager not installed; skipped\n');
    return [];
  }
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-rule-'));
  const services = new ServiceGroup();
  const toggle = await startToggleTarget();
  const received: Received[] = [];
  const recorder = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const at = Date.now();
      for (const a of JSON.parse(body) as Omit<Received, 'at'>[]) received.push({ ...a, at });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => recorder.listen(0, '127.0.0.1', r));
  try {
    const prom = await services.add(startScrapingPrometheus(prometheusBin, dir, [toggle.address], { prom: 'p1', replica: 'a' }));
    const sidecar = await services.add(startSidecar({ prometheusUrl: prom.httpUrl, tsdbPath: join(dir, 'prom-data') }));
    const am = await services.add(startAlertmanager(alertmanagerBin, dir));
    await mkdir(join(dir, 'rules'));
    await writeFile(join(dir, 'rules', 'r.yml'), 'groups:\n  - name: latency\n    interval: 1s\n    rules:\n      - alert: ToggleOn\n        expr: test_toggle > 0\n        for: 0s\n');
    const querierHttp = `127.0.0.1:${await freePort()}`;
    const ports = await rulerPorts();
    await services.add(
      startRuler(ports, [
        `--rule-file=${join(dir, 'rules', '*.yml')}`,
        `--query=${querierHttp}`,
        `--alertmanagers.url=${am.httpUrl}`,
        `--alertmanagers.url=http://127.0.0.1:${(recorder.address() as AddressInfo).port}`,
        '--label=replica="r1"',
        '--eval-interval=1s',
        `--data-dir=${join(dir, 'ruler-data')}`,
      ]),
    );
    await services.add(startQuerierAt(querierHttp, [sidecar.grpcAddress!], ['replica']));
    // Prometheus has scraped the target and the querier answers before the first round
    await waitFor('test_toggle through the querier', async () => {
      const res = await fetch(`http://${querierHttp}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: 'test_toggle' }) });
      return ((await res.json()) as { data?: { result?: unknown[] } }).data?.result?.length === 1;
    }, 120_000);
    const latencies: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const before = received.length;
      toggle.set(1);
      const firing = await waitFor('the alert at the recorder', async () => received.slice(before).find((a) => Date.parse(a.endsAt) > a.at), 60_000);
      await waitFor('the alert listed by the Alertmanager', async () => (await amAlerts(am)).length === 1, 30_000);
      latencies.push(firing.at - toggle.firstServedAt!);
      toggle.set(0);
      const mark = received.length;
      await waitFor('the resolution', async () => received.slice(mark).some((a) => Date.parse(a.endsAt) <= a.at), 60_000);
      await waitFor('the Alertmanager to drop it', async () => (await amAlerts(am)).length === 0, 30_000);
    }
    latencies.sort((a, b) => a - b);
    const median = (latencies[(ROUNDS - 1) >> 1]! + latencies[ROUNDS >> 1]!) / 2;
    process.stderr.write(`rule-alert-latency: ${latencies.join(' ')} ms\n`);
    return [
      { name: `rule alert latency scrape→Alertmanager, 1s scrape+eval, for: 0s, median of ${ROUNDS}`, value: median, unit: 'ms' },
      { name: `rule alert latency scrape→Alertmanager, 1s scrape+eval, for: 0s, max of ${ROUNDS}`, value: latencies[ROUNDS - 1]!, unit: 'ms' },
    ];
  } finally {
    await services.stopAll();
    await toggle.close();
    await new Promise((r) => recorder.close(r));
    await rm(dir, { recursive: true, force: true });
  }
}
