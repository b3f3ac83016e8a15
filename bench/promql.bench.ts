/**
 * Issue 3 item 5: our PromQL engine over local blocks vs a real Prometheus over the same blocks.
 *
 * Data: `tessera tools gen openmetrics` (200 hosts, 6 h, 15 s; 14.4k series, ~20.7M samples) → promtool blocks,
 * cached under $TESSERA_BENCH_CACHE (default <tmpdir>/tessera-bench-cache) so reruns skip the
 * ~2 minutes of generation. Each dashboard query runs as a range query through
 * `new Engine().rangeQuery(openDB(dir), …)` in this process and through Prometheus's HTTP
 * /api/v1/query_range; we report median wall times, the ratio (ours / Prometheus), Prometheus's
 * own engine time (evalTotalTime, no HTTP/JSON), and whether the results agree.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../pkg/promql/index.js';
import { findBinary } from '../pkg/testutil/index.js';
import { openDB } from '../pkg/tsdb/index.js';
import { cachedBlocks, copyBlocks } from '../test/e2e/fixtures.js';
import { compareData, rangeQuery } from '../test/e2e/prom-compare.js';
import { startPrometheus, type Service } from '../test/e2e/services.js';
import { DASHBOARD_DATA, DASHBOARD_QUERIES, DASHBOARD_RANGE, engineToApi, measure, median, rowLine, summarize, type ComparisonRow } from './dashboard-queries.js';
import type { BenchResult } from './harness.js';

export async function run(): Promise<BenchResult[]> {
  const promtool = findBinary('promtool');
  const prometheus = findBinary('prometheus');
  if (promtool === undefined || prometheus === undefined) {
    console.log('promql.bench: SKIPPED (needs promtool and prometheus)');
    return [];
  }
  const { dir: blocks, generatedMs } = await cachedBlocks(promtool, DASHBOARD_DATA);
  console.log(`promql.bench: data ${DASHBOARD_DATA.hosts} hosts x ${DASHBOARD_DATA.hours} h at ${blocks} (${generatedMs > 0 ? `generated in ${(generatedMs / 1000).toFixed(1)} s` : 'cached'})`);

  const work = await mkdtemp(join(tmpdir(), 'tessera-bench-promql-'));
  let prom: Service | undefined;
  const db = await openDB(blocks);
  try {
    // Prometheus gets a copy: it owns (and may rewrite) its data dir. 2h block bounds keep it from
    // compacting the three blocks into one while we measure.
    await copyBlocks(blocks, join(work, 'data'));
    prom = await startPrometheus(prometheus, {
      dataDir: join(work, 'data'),
      configFile: join(work, 'prometheus.yml'),
      extraArgs: ['--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h', '--query.max-samples=500000000'],
    });
    const engine = new Engine({ maxSamples: 500_000_000 });
    const { start, end, step } = DASHBOARD_RANGE;
    const rows: ComparisonRow[] = [];
    for (const q of DASHBOARD_QUERIES) {
      const ours = await measure(async () => engine.rangeQuery(db, q.expr, start, end, step).exec());
      const evals: number[] = [];
      const theirs = await measure(async () => {
        const r = await rangeQuery(prom!.httpUrl, q.expr, start, end, step, { stats: 'all' });
        const e = (r.data as { stats?: { timings?: { evalTotalTime?: number } } } | undefined)?.stats?.timings?.evalTotalTime;
        if (e !== undefined) evals.push(e);
        return r;
      });
      const evalS = evals.length > 1 ? median(evals.slice(1)) : undefined; // the first was the warm-up
      let agree: string;
      if (theirs.value.data === undefined) agree = `prometheus error: ${theirs.value.error ?? ''}`;
      else {
        const diffs = compareData(engineToApi(ours.value.value), theirs.value.data, { rel: 1e-6, maxDiffs: 1 });
        agree = diffs.length === 0 ? 'equal' : `DIFFER: ${diffs[0]!.slice(0, 160)}`;
      }
      const row: ComparisonRow = { id: q.id, tesseraMs: ours.ms, prometheusMs: theirs.ms, ...(evalS !== undefined ? { prometheusEvalMs: evalS * 1000 } : {}), agree };
      rows.push(row);
      console.log(rowLine('promql', row));
    }
    return summarize('promql', rows, `Engine over local blocks vs Prometheus HTTP query_range, ${DASHBOARD_DATA.hosts} hosts x ${DASHBOARD_DATA.hours} h, 3 h range at 60 s step`);
  } finally {
    db.close();
    await prom?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
