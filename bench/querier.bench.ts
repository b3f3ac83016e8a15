/**
 * Issue 5: the dashboard query set through real `tessera store` + `tessera query` processes vs a
 * real Prometheus over the same blocks, both over HTTP /api/v1/query_range.
 *
 * Data: the cached gen-openmetrics blocks of promql.bench.ts (200 hosts, 6 h, replica a), uploaded
 * to a MinIO bucket with external labels cluster=c1, replica=a; one `tessera store` over the
 * bucket; `tessera query --query.replica-label=replica` over the store (deduplication runs, over a
 * single replica). Prometheus serves a copy of the same blocks. The store's index cache is warm
 * after the first (warm-up) run of each query, as Prometheus's page cache is.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from '../pkg/testutil/index.js';
import { cachedBlocks, copyBlocks, GEN_OPENMETRICS } from '../test/e2e/fixtures.js';
import { compareData, rangeQuery } from '../test/e2e/prom-compare.js';
import { startBuckets, startPrometheus, startQuery, startStore, stopAll, uploadBlocks, type BucketService, type Service } from '../test/e2e/services.js';
import { DASHBOARD_DATA, DASHBOARD_QUERIES, DASHBOARD_RANGE, measure, median, rowLine, summarize, type ComparisonRow } from './dashboard-queries.js';
import type { BenchResult } from './harness.js';

export async function run(): Promise<BenchResult[]> {
  const promtool = findBinary('promtool');
  const prometheus = findBinary('prometheus');
  const minio = findBinary('minio');
  if (promtool === undefined || prometheus === undefined || minio === undefined || !existsSync(GEN_OPENMETRICS)) {
    console.log('querier.bench: SKIPPED (needs promtool, prometheus, minio and the gen-openmetrics script)');
    return [];
  }
  const { dir: blocks, generatedMs } = await cachedBlocks(promtool, DASHBOARD_DATA);
  console.log(`querier.bench: data ${DASHBOARD_DATA.hosts} hosts x ${DASHBOARD_DATA.hours} h at ${blocks} (${generatedMs > 0 ? `generated in ${(generatedMs / 1000).toFixed(1)} s` : 'cached'})`);

  const work = await mkdtemp(join(tmpdir(), 'tessera-bench-querier-'));
  let buckets: BucketService | undefined;
  const services: (Service | undefined)[] = [];
  try {
    buckets = await startBuckets(minio);
    const cfg = await buckets.bucketConfig('bench', join(work, 'bucket.yml'));
    let t0 = performance.now();
    await Promise.all([uploadBlocks([blocks], cfg, { cluster: 'c1', replica: 'a' }), copyBlocks(blocks, join(work, 'prom-data'))]);
    console.log(`querier.bench: uploaded the blocks to MinIO in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    const [prom, store] = await Promise.all([
      startPrometheus(prometheus, {
        dataDir: join(work, 'prom-data'),
        configFile: join(work, 'prometheus.yml'),
        extraArgs: ['--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h', '--query.max-samples=500000000'],
      }),
      startStore({ objstoreConfigFile: cfg, dataDir: join(work, 'store') }),
    ]);
    services.push(prom, store);
    const query = await startQuery({ endpoints: [store.grpcAddress!], replicaLabels: ['replica'], extraArgs: ['--query.max-samples=500000000', '--query.timeout=10m'] });
    services.push(query);
    console.log(`querier.bench: Prometheus, tessera store and tessera query ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const { start, end, step } = DASHBOARD_RANGE;
    const rows: ComparisonRow[] = [];
    for (const q of DASHBOARD_QUERIES) {
      const ours = await measure(() => rangeQuery(query.httpUrl, q.expr, start, end, step, {}, 600_000), { minRuns: 3, maxRuns: 5 });
      const evals: number[] = [];
      const theirs = await measure(async () => {
        const r = await rangeQuery(prom.httpUrl, q.expr, start, end, step, { stats: 'all' });
        const e = (r.data as { stats?: { timings?: { evalTotalTime?: number } } } | undefined)?.stats?.timings?.evalTotalTime;
        if (e !== undefined) evals.push(e);
        return r;
      });
      let agree: string;
      if (ours.value.data === undefined) agree = `tessera error: ${ours.value.httpStatus} ${ours.value.error ?? ''}`;
      else if (theirs.value.data === undefined) agree = `prometheus error: ${theirs.value.error ?? ''}`;
      else {
        const diffs = compareData(ours.value.data, theirs.value.data, { rel: 1e-6, maxDiffs: 1, dropLabels: ['cluster', 'replica'] });
        agree = diffs.length === 0 ? 'equal' : `DIFFER: ${diffs[0]!.slice(0, 160)}`;
      }
      const row: ComparisonRow = { id: q.id, tesseraMs: ours.ms, prometheusMs: theirs.ms, ...(evals.length > 1 ? { prometheusEvalMs: median(evals.slice(1)) * 1000 } : {}), agree };
      rows.push(row);
      console.log(rowLine('querier', row));
    }
    return summarize('querier', rows, `tessera query + tessera store (MinIO) vs Prometheus, HTTP query_range, ${DASHBOARD_DATA.hosts} hosts x ${DASHBOARD_DATA.hours} h, 3 h range at 60 s step`);
  } finally {
    await stopAll(services);
    await buckets?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
