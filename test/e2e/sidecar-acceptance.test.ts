import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { Labels } from '../../pkg/labels/index.js';
import { PrometheusClient, PrometheusStore, PrometheusWatcher } from '../../pkg/sidecar/index.js';
import { GrpcStoreClient, StoreGrpcServer, storeAPIAcceptanceSuite, type MemSeries } from '../../pkg/store/index.js';
import { freePort, requireBinary, startProcess, waitForHttp } from '../../pkg/testutil/index.js';

const prometheusBin = requireBinary('prometheus');
const promtoolBin = requireBinary('promtool');

/** toOpenMetrics renders the series as OpenMetrics text for `promtool tsdb create-blocks-from`. */
function toOpenMetrics(series: readonly MemSeries[]): string {
  const byName = new Map<string, MemSeries[]>();
  for (const s of series) {
    const n = s.labels.get('__name__');
    byName.set(n, [...(byName.get(n) ?? []), s]);
  }
  let out = '';
  for (const [name, ss] of byName) {
    out += `# TYPE ${name} gauge\n`;
    for (const s of ss) {
      const lbls: string[] = [];
      s.labels.forEach((k, v) => {
        if (k !== '__name__') lbls.push(`${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
      });
      for (const [t, v] of s.samples) out += `${name}{${lbls.join(',')}} ${Object.is(v, -0) ? '-0' : String(v)} ${t / 1000}\n`;
    }
  }
  return out + '# EOF\n';
}

function extYaml(ext: Labels): string {
  let y = '';
  ext.forEach((k, v) => (y += `    ${k}: ${JSON.stringify(v)}\n`));
  return y;
}

/**
 * Prometheus answers /api/v1/labels and /api/v1/label/<n>/values per block (any block overlapping
 * the range contributes all its labels), and so does the Thanos sidecar, which forwards them. The
 * suite's data all sits in one 2h block, so these two time-range checks cannot hold for any
 * Prometheus-backed store; they are expected to fail (and flag it if Prometheus ever changes).
 */
const prometheusLabelGranularity = new Set(['LabelNames: time range excludes labels of early series', 'LabelValues: with matchers and time range']);
const api = {
  describe,
  beforeAll,
  afterAll,
  test: (name: string, fn: () => Promise<void>) => (prometheusLabelGranularity.has(name) ? test.fails(name, fn) : test(name, fn)),
};

// The acceptance data lives at 1970 timestamps; there is no scrape, so no head data moves
// Prometheus's retention horizon past them.
describe.skipIf(prometheusBin === undefined || promtoolBin === undefined)('PrometheusStore (sidecar) over gRPC against a real Prometheus', () => {
  storeAPIAcceptanceSuite(api, 'sidecar PrometheusStore over gRPC', async ({ series, externalLabels }) => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-sidecar-acc-'));
    const tsdb = join(dir, 'tsdb');
    await writeFile(join(dir, 'data.om'), toOpenMetrics(series));
    execFileSync(promtoolBin!, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'data.om'), tsdb], { stdio: 'pipe' });
    await writeFile(join(dir, 'prometheus.yml'), `global:\n  external_labels:\n${extYaml(externalLabels)}`);
    const port = await freePort();
    const prom = startProcess(prometheusBin!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${tsdb}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=100y',
    ]);
    const grpcServer = { current: undefined as StoreGrpcServer | undefined };
    try {
      await waitForHttp(`http://127.0.0.1:${port}/-/ready`, 60_000);
      const client = new PrometheusClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 10_000 });
      const watcher = new PrometheusWatcher({ client, registry: new Registry() });
      await watcher.waitReady(30_000, undefined, 200);
      const store = new PrometheusStore({ client, externalLabels: () => watcher.externalLabels(), minTime: () => watcher.minTime(), registry: new Registry() });
      grpcServer.current = new StoreGrpcServer(store);
      const grpcPort = await grpcServer.current.listen('127.0.0.1:0');
      const storeClient = new GrpcStoreClient(`127.0.0.1:${grpcPort}`);
      return {
        client: storeClient,
        async close() {
          storeClient.close();
          await grpcServer.current?.stop();
          await prom.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      await grpcServer.current?.stop();
      await prom.stop();
      throw new Error(`start Prometheus for the acceptance suite: ${String(err)}\n${prom.output()}`);
    }
  });
});
