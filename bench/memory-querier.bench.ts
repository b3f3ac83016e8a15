/**
 * Issue 13 (memory), the whole path: peak RSS growth of a real `tessera query` process (Store API
 * over gRPC from a `tessera store`, evaluation, JSON streamed to the client) for a large subquery
 * and a large range query, per sample, against Prometheus's peak RSS growth on the same query
 * over the same blocks in the same run. memory.bench.ts measures the engine alone; this adds what
 * the querier holds for series data received from stores and for the response.
 *
 * Data: the cached dashboard blocks (200 hosts, 6 h), in a FILESYSTEM bucket behind one
 * `tessera store`. Peak RSS per query: /proc/<pid>/clear_refs 5 resets VmHWM to the current RSS,
 * then VmHWM after the answer minus VmRSS before it (the same for both processes). Each case gets a
 * fresh querier and a fresh Prometheus, warmed by a cheap query (count(up)) first.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from '../pkg/testutil/index.js';
import { cachedBlocks, copyBlocks, listBlocks } from '../test/e2e/fixtures.js';
import { ServiceGroup, startPrometheus, startQuery, startStore, uploadBlocks } from '../test/e2e/services.js';
import { DASHBOARD_DATA, DASHBOARD_RANGE } from './dashboard-queries.js';
import type { BenchResult } from './harness.js';

function statusKB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

/** peakGrowthKB runs one request against the server process pid and returns its peak RSS growth and the parsed answer. */
async function peakGrowthKB(pid: number, url: string): Promise<{ kb: number; status: number; body: unknown }> {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Without it the peak may be an earlier query's; the warm-up then dominates.
  }
  const before = statusKB(pid, 'VmRSS');
  const res = await fetch(url);
  const text = await res.text();
  const kb = statusKB(pid, 'VmHWM') - before;
  return { kb, status: res.status, body: JSON.parse(text) as unknown };
}

/** samplesOf counts what an answer holds: for a vector the sum of its values (count_over_time), for a matrix its points. */
function samplesOf(body: unknown): number {
  const data = (body as { data?: { resultType: string; result: { value?: [number, string]; values?: unknown[] }[] } }).data;
  if (data === undefined) return 0;
  let n = 0;
  for (const s of data.result) n += data.resultType === 'vector' ? Number(s.value?.[1] ?? 0) : (s.values?.length ?? 0);
  return n;
}

export async function run(): Promise<BenchResult[]> {
  const promtool = findBinary('promtool');
  const prometheus = findBinary('prometheus');
  if (promtool === undefined || prometheus === undefined || process.platform !== 'linux') {
    console.log('memory-querier.bench: SKIPPED (needs promtool, prometheus and /proc)');
    return [];
  }
  const { dir: blocks } = await cachedBlocks(promtool, DASHBOARD_DATA);
  const t = DASHBOARD_RANGE.end / 1000;
  const start = DASHBOARD_RANGE.start / 1000;
  const end = DASHBOARD_RANGE.end / 1000;
  const cases = [
    // 200 series x 36,000 subquery steps = 7.2 M samples.
    { id: 'subquery count_over_time(up[1h:100ms])', path: `query?query=${encodeURIComponent('count_over_time(up[1h:100ms])')}&time=${t}` },
    // 200 series x 10,801 steps = 2.16 M points in the result.
    { id: 'range up, 3 h at 1 s', path: `query_range?query=up&start=${start}&end=${end}&step=1` },
  ];
  const work = await mkdtemp(join(tmpdir(), 'tessera-bench-memory-querier-'));
  const services = new ServiceGroup();
  const out: BenchResult[] = [];
  try {
    const cfg = join(work, 'bucket.yml');
    await writeFile(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${join(work, 'bucket')}\n`);
    await Promise.all([uploadBlocks((await listBlocks(blocks)).map((b) => join(blocks, b)), cfg, { replica: 'a' }), copyBlocks(blocks, join(work, 'prom-data'))]);
    const store = await services.add(startStore({ objstoreConfigFile: cfg, dataDir: join(work, 'store-data') }));
    for (const c of cases) {
      // Fresh processes per case: a Go heap (and V8's) keeps what an earlier query grew it to, which
      // would hide this query's peak. A cheap query first warms code, index caches and connections.
      const prom = await startPrometheus(prometheus, {
        dataDir: join(work, 'prom-data'),
        configFile: join(work, 'prometheus.yml'),
        extraArgs: ['--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h', '--query.max-samples=500000000'],
      });
      try {
        const query = await startQuery({ endpoints: [store.grpcAddress!], extraArgs: ['--query.max-samples=500000000'] });
        try {
          const warm = `query?query=${encodeURIComponent('count(up)')}&time=${t}`;
          await (await fetch(`${query.httpUrl}/api/v1/${warm}`)).arrayBuffer();
          await (await fetch(`${prom.httpUrl}/api/v1/${warm}`)).arrayBuffer();
          const ours = await peakGrowthKB(query.process.proc.pid!, `${query.httpUrl}/api/v1/${c.path}`);
          const theirs = await peakGrowthKB(prom.process.proc.pid!, `${prom.httpUrl}/api/v1/${c.path}`);
          const samples = samplesOf(theirs.body);
          const oursSamples = samplesOf(ours.body);
          const perOurs = (ours.kb * 1024) / samples;
          const perTheirs = (theirs.kb * 1024) / samples;
          console.log(
            `memory-querier ${c.id.padEnd(40)} samples ${samples} (tessera ${oursSamples})   tessera query +${(ours.kb / 1024).toFixed(0)} MB (${perOurs.toFixed(1)} B/sample, HTTP ${ours.status})   prometheus +${(theirs.kb / 1024).toFixed(0)} MB (${perTheirs.toFixed(1)} B/sample, HTTP ${theirs.status})`,
          );
          out.push({ name: `memory-querier ${c.id} tessera query bytes/sample`, value: perOurs, unit: 'B' });
          out.push({ name: `memory-querier ${c.id} prometheus bytes/sample`, value: perTheirs, unit: 'B' });
        } finally {
          await query.stop();
        }
      } finally {
        await prom.stop();
      }
    }
    return out;
  } finally {
    await services.stopAll();
    await rm(work, { recursive: true, force: true });
  }
}
