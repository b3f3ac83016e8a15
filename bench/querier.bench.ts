/**
 * Issue 5: the dashboard query set through real `tessera store` + `tessera query` processes vs a
 * real Prometheus over the same blocks, both over HTTP /api/v1/query_range.
 *
 * Data: the cached generated blocks of promql.bench.ts (200 hosts, 6 h, replica a), uploaded
 * to a MinIO bucket with external labels cluster=c1, replica=a; one `tessera store` over the
 * bucket; `tessera query --query.replica-label=replica` over the store (deduplication runs, over a
 * single replica). Prometheus serves a copy of the same blocks. The store's index cache is warm
 * after the first (warm-up) run of each query, as Prometheus's page cache is.
 *
 * Second pass ("querier-ha"): the HA shape of the acceptance test. Replica b's blocks (same
 * values, scrapes shifted by 250–649 ms, a 10-minute gap) go to a second bucket behind a second
 * `tessera store`, and a second `tessera query` deduplicates a+b; Prometheus still serves a alone
 * (deduplication yields replica a's samples, so the results must still be equal).
 *
 * Each pass also measures throughput: 16 concurrent clients each run the 12 queries once
 * (starting at different queries), against tessera and then Prometheus; queries/s of each and
 * their ratio. The machine's load average is printed with every figure: on a shared machine only
 * the ratios of one run mean something.
 *
 * Environment: QUERIER_BENCH_ONLY=ha runs only the HA pass (=single only the first one);
 * QUERIER_BENCH_THROUGHPUT=0 skips the concurrent-clients measurements; QUERIER_BENCH_QUERY_ARGS adds
 * flags to `tessera query` (e.g. "--query.worker-threads=0"). To profile the Tessera
 * processes, give the start helpers nodeArgs such as ['--cpu-prof', '--cpu-prof-dir=<dir>'] (a
 * profile is written when the process exits); Node 20 refuses --cpu-prof in NODE_OPTIONS.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from '../pkg/testutil/index.js';
import { cachedBlocks, copyBlocks } from '../test/e2e/fixtures.js';
import { compareData, rangeQuery } from '../test/e2e/prom-compare.js';
import { startBuckets, startPrometheus, startQuery, ServiceGroup, startStore, uploadBlocks, type BucketService, type Service } from '../test/e2e/services.js';
import { DASHBOARD_DATA, DASHBOARD_QUERIES, DASHBOARD_RANGE, measure, median, rowLine, summarize, type ComparisonRow } from './dashboard-queries.js';
import type { BenchResult } from './harness.js';

export async function run(): Promise<BenchResult[]> {
  const promtool = findBinary('promtool');
  const prometheus = findBinary('prometheus');
  const minio = findBinary('minio');
  if (promtool === undefined || prometheus === undefined || minio === undefined) {
    console.log('querier.bench: SKIPPED (needs promtool, prometheus and minio)');
    return [];
  }
  const dataA = await cachedBlocks(promtool, DASHBOARD_DATA);
  const dataB = await cachedBlocks(promtool, { ...DASHBOARD_DATA, replica: 'b' });
  for (const [r, d] of [['a', dataA], ['b', dataB]] as const) {
    console.log(`querier.bench: replica ${r}, ${DASHBOARD_DATA.hosts} hosts x ${DASHBOARD_DATA.hours} h at ${d.dir} (${d.generatedMs > 0 ? `generated in ${(d.generatedMs / 1000).toFixed(1)} s` : 'cached'})`);
  }

  const work = await mkdtemp(join(tmpdir(), 'tessera-bench-querier-'));
  let buckets: BucketService | undefined;
  const services = new ServiceGroup();
  try {
    buckets = await startBuckets(minio);
    const cfgA = await buckets.bucketConfig('bench-a', join(work, 'bucket-a.yml'));
    const cfgB = await buckets.bucketConfig('bench-b', join(work, 'bucket-b.yml'));
    let t0 = performance.now();
    await Promise.all([
      uploadBlocks([dataA.dir], cfgA, { cluster: 'c1', replica: 'a' }),
      uploadBlocks([dataB.dir], cfgB, { cluster: 'c1', replica: 'b' }),
      copyBlocks(dataA.dir, join(work, 'prom-data')),
    ]);
    console.log(`querier.bench: uploaded both replicas' blocks to MinIO in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    t0 = performance.now();
    const [prom, storeA, storeB] = await Promise.all([
      services.add(
        startPrometheus(prometheus, {
          dataDir: join(work, 'prom-data'),
          configFile: join(work, 'prometheus.yml'),
          extraArgs: ['--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h', '--query.max-samples=500000000'],
        }),
      ),
      services.add(startStore({ name: 'tessera store (replica a)', objstoreConfigFile: cfgA, dataDir: join(work, 'store-a') })),
      services.add(startStore({ name: 'tessera store (replica b)', objstoreConfigFile: cfgB, dataDir: join(work, 'store-b') })),
    ]);
    console.log(`querier.bench: Prometheus and 2 tessera stores ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const out: BenchResult[] = [];
    if (ONLY !== 'ha') {
      const queryA = await services.add(startQuery({ endpoints: [storeA.grpcAddress!], replicaLabels: ['replica'], extraArgs: QUERY_ARGS, nodeArgs: QUERY_NODE_ARGS }));
      console.log(`querier.bench: load average ${loadavg()}`);
      const rows = await compare('querier', queryA.httpUrl, prom.httpUrl, { tessera: [queryA, storeA], prometheus: prom });
      out.push(...summarize('querier', rows, `tessera query + 1 tessera store (MinIO) vs Prometheus, HTTP query_range, ${DASHBOARD_DATA.hosts} hosts x ${DASHBOARD_DATA.hours} h, 3 h range at 60 s step`));
      if (THROUGHPUT) out.push(...(await throughput('querier', queryA.httpUrl, prom.httpUrl, { tessera: [queryA, storeA], prometheus: prom })));
      await queryA.stop();
    }
    if (ONLY === 'single') return out;

    const queryHA = await services.add(startQuery({ endpoints: [storeA.grpcAddress!, storeB.grpcAddress!], replicaLabels: ['replica'], extraArgs: QUERY_ARGS, nodeArgs: QUERY_NODE_ARGS }));
    console.log(`querier.bench: load average ${loadavg()}`);
    const rowsHA = await compare('querier-ha', queryHA.httpUrl, prom.httpUrl, { tessera: [queryHA, storeA, storeB], prometheus: prom });
    out.push(...summarize('querier-ha', rowsHA, 'tessera query deduplicating replicas a+b from 2 tessera stores vs Prometheus serving replica a, same queries'));
    if (THROUGHPUT) out.push(...(await throughput('querier-ha', queryHA.httpUrl, prom.httpUrl, { tessera: [queryHA, storeA, storeB], prometheus: prom })));
    await queryHA.stop();
    return out;
  } finally {
    await services.stopAll();
    await buckets?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

const ONLY = process.env['QUERIER_BENCH_ONLY'] ?? '';
const THROUGHPUT = process.env['QUERIER_BENCH_THROUGHPUT'] !== '0';
/** QUERIER_BENCH_QUERY_ARGS adds `tessera query` flags (space separated), e.g. --query.worker-threads=0. */
const QUERY_ARGS = ['--query.max-samples=500000000', '--query.timeout=10m', ...(process.env['QUERIER_BENCH_QUERY_ARGS'] ?? '').split(' ').filter((a) => a !== '')];
/** QUERIER_BENCH_QUERY_NODE_ARGS adds node flags for `tessera query` (space separated), e.g. --cpu-prof --cpu-prof-dir=/tmp/prof. */
const QUERY_NODE_ARGS = (process.env['QUERIER_BENCH_QUERY_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');

/**
 * compare runs every dashboard query against tessera query and Prometheus and prints one line each,
 * plus the CPU time a query costs the Tessera processes (query first, then the stores) and Prometheus.
 */
async function compare(bench: string, queryUrl: string, promUrl: string, cpu: { tessera: readonly Service[]; prometheus: Service }): Promise<ComparisonRow[]> {
  const { start, end, step } = DASHBOARD_RANGE;
  const rows: ComparisonRow[] = [];
  const oursCpu: number[] = [];
  const queryCpu: number[] = [];
  const theirsCpu: number[] = [];
  for (const q of DASHBOARD_QUERIES) {
    // CPU baselines are taken after each side's warm-up run, which the wall times leave out too
    // (the first run of a query fills the store's caches and compiles the querier's code).
    let q0 = 0;
    let c0 = 0;
    const ours = await measure(() => rangeQuery(queryUrl, q.expr, start, end, step, {}, 600_000), {
      minRuns: 3,
      maxRuns: 5,
      afterWarmup: () => {
        q0 = cpuMs(cpu.tessera.slice(0, 1));
        c0 = cpuMs(cpu.tessera);
      },
    });
    const oursMs = (cpuMs(cpu.tessera) - c0) / ours.runs;
    const queryMs = (cpuMs(cpu.tessera.slice(0, 1)) - q0) / ours.runs;
    const evals: number[] = [];
    let p0 = 0;
    const theirs = await measure(
      async () => {
        const r = await rangeQuery(promUrl, q.expr, start, end, step, { stats: 'all' });
        const e = (r.data as { stats?: { timings?: { evalTotalTime?: number } } } | undefined)?.stats?.timings?.evalTotalTime;
        if (e !== undefined) evals.push(e);
        return r;
      },
      { afterWarmup: () => (p0 = cpuMs([cpu.prometheus])) },
    );
    let agree: string;
    if (ours.value.data === undefined) agree = `tessera error: ${ours.value.httpStatus} ${ours.value.error ?? ''}`;
    else if (theirs.value.data === undefined) agree = `prometheus error: ${theirs.value.error ?? ''}`;
    else {
      const diffs = compareData(ours.value.data, theirs.value.data, { rel: 1e-6, maxDiffs: 1, dropLabels: ['cluster', 'replica'] });
      agree = diffs.length === 0 ? 'equal' : `DIFFER: ${diffs[0]!.slice(0, 160)}`;
    }
    const row: ComparisonRow = { id: q.id, tesseraMs: ours.ms, prometheusMs: theirs.ms, ...(evals.length > 1 ? { prometheusEvalMs: median(evals.slice(1)) * 1000 } : {}), agree };
    const theirsMs = (cpuMs([cpu.prometheus]) - p0) / theirs.runs;
    rows.push(row);
    console.log(rowLine(bench, row));
    oursCpu.push(oursMs);
    queryCpu.push(queryMs);
    theirsCpu.push(theirsMs);
    console.log(`${bench} ${q.id.padEnd(22)} CPU a query: tessera query+stores ${oursMs.toFixed(0)} ms (query ${queryMs.toFixed(0)}), prometheus ${theirsMs.toFixed(0)} ms, ratio ${(oursMs / theirsMs).toFixed(2)}x`);
  }
  const ratios = oursCpu.map((o, i) => o / theirsCpu[i]!);
  console.log(`${bench} CPU a query (from /proc/<pid>/stat, steadier than wall time on a loaded machine): median tessera query+stores ${median(oursCpu).toFixed(0)} ms (query alone ${median(queryCpu).toFixed(0)} ms), prometheus ${median(theirsCpu).toFixed(0)} ms, median ratio ${median(ratios).toFixed(2)}x`);
  return rows;
}

/** cpuMs is the user + system CPU time (ms) the services' processes have used so far (0 where /proc is missing). */
function cpuMs(services: readonly Service[]): number {
  let ms = 0;
  for (const s of services) {
    const pid = s.process.proc.pid;
    if (pid === undefined) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    } catch {
      // not Linux, or the process is gone
    }
  }
  return ms;
}

/** CLK_TCK is the kernel's clock tick (USER_HZ), 100 on Linux. */
const CLK_TCK = 100;

/** loadavg is the machine's 1, 5 and 15 minute load averages. */
function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

const CLIENTS = 16;

/**
 * clients runs CLIENTS concurrent clients, each running every dashboard query once (from its own
 * first one): queries/s, wall seconds, and the CPU (ms) this bench process spent as the client.
 */
async function clients(url: string): Promise<{ qps: number; errors: number; wallSec: number; clientCpuMs: number }> {
  const { start, end, step } = DASHBOARD_RANGE;
  let errors = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; i < DASHBOARD_QUERIES.length; i++) {
        const q = DASHBOARD_QUERIES[(c + i) % DASHBOARD_QUERIES.length]!;
        const r = await rangeQuery(url, q.expr, start, end, step, {}, 600_000);
        if (r.data === undefined) errors++;
      }
    }),
  );
  const wallSec = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  return { qps: (CLIENTS * DASHBOARD_QUERIES.length) / wallSec, errors, wallSec, clientCpuMs: (c1.user + c1.system) / 1000 };
}

/**
 * throughput measures queries/s with CLIENTS concurrent clients, tessera then Prometheus, and prints
 * the load with each, plus where the CPU went: ms a query and cores busy for the querier, the stores,
 * Prometheus and this bench process (the clients parse every answer), so a limit of one process's
 * single thread shows as a process near 1.0 cores while the machine has more.
 */
async function throughput(bench: string, queryUrl: string, promUrl: string, cpu: { tessera: readonly Service[]; prometheus: Service }): Promise<BenchResult[]> {
  const n = CLIENTS * DASHBOARD_QUERIES.length;
  const loadBefore = loadavg();
  const q0 = cpuMs(cpu.tessera.slice(0, 1));
  const s0 = cpuMs(cpu.tessera.slice(1));
  const ours = await clients(queryUrl);
  const queryCpu = cpuMs(cpu.tessera.slice(0, 1)) - q0;
  const storesCpu = cpuMs(cpu.tessera.slice(1)) - s0;
  const loadMid = loadavg();
  const p0 = cpuMs([cpu.prometheus]);
  const theirs = await clients(promUrl);
  const promCpu = cpuMs([cpu.prometheus]) - p0;
  const loadAfter = loadavg();
  const cores = (ms: number, wallSec: number) => (ms / 1000 / wallSec).toFixed(2);
  console.log(
    `${bench} ${CLIENTS} concurrent clients: tessera ${ours.qps.toFixed(2)} queries/s (load ${loadBefore}), prometheus ${theirs.qps.toFixed(2)} queries/s (load ${loadMid}; after ${loadAfter}), ` +
      `prometheus/tessera ${(theirs.qps / ours.qps).toFixed(2)}x${ours.errors + theirs.errors > 0 ? `; errors: tessera ${ours.errors}, prometheus ${theirs.errors}` : ''}`,
  );
  console.log(
    `${bench} ${CLIENTS} clients, CPU a query and cores busy: tessera query ${(queryCpu / n).toFixed(0)} ms (${cores(queryCpu, ours.wallSec)} cores), stores ${(storesCpu / n).toFixed(0)} ms (${cores(storesCpu, ours.wallSec)}), ` +
      `bench client ${(ours.clientCpuMs / n).toFixed(0)} ms (${cores(ours.clientCpuMs, ours.wallSec)}); prometheus ${(promCpu / n).toFixed(0)} ms (${cores(promCpu, theirs.wallSec)} cores), bench client ${(theirs.clientCpuMs / n).toFixed(0)} ms (${cores(theirs.clientCpuMs, theirs.wallSec)})`,
  );
  return [
    { name: `${bench} ${CLIENTS} clients tessera`, value: ours.qps, unit: 'queries/s' },
    { name: `${bench} ${CLIENTS} clients prometheus`, value: theirs.qps, unit: 'queries/s' },
    { name: `${bench} ${CLIENTS} clients prometheus/tessera`, value: theirs.qps / ours.qps, unit: 'x' },
    { name: `${bench} ${CLIENTS} clients tessera query CPU a query`, value: queryCpu / n, unit: 'ms' },
    { name: `${bench} ${CLIENTS} clients tessera stores CPU a query`, value: storesCpu / n, unit: 'ms' },
    { name: `${bench} ${CLIENTS} clients prometheus CPU a query`, value: promCpu / n, unit: 'ms' },
  ];
}
