/**
 * Issue 14: a 12-panel dashboard over 7 days refreshed 10 times, through real processes:
 * `tessera store` over a FILESYSTEM bucket, `tessera query` over it, and `tessera query-frontend`
 * in front (24h split) without a cache, with the IN-MEMORY cache, and with a REDIS cache on a real
 * `redis-server`. Each refresh asks the 12 panels 6 at a time (a browser's connections per host).
 * The first refresh of a cached frontend is cold, the other 9 warm (uncached setups refresh 3 times); every warm answer is checked
 * equal to the querier's own. Plus the issue's scale point: an 8 h `sum by (mode) (rate(...))`
 * cold and warm.
 *
 * Data: the project's generator, 10 hosts x 7 days at 60 s (about 750 series), blocks by promtool.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { findBinary, freePort, startRedisServer, type ManagedProcess } from '../pkg/testutil/index.js';
import { DATA_START_MS, cachedBlocks } from '../test/e2e/fixtures.js';
import { ServiceGroup, startQuery, startStore, startTessera, uploadBlocks } from '../test/e2e/services.js';
import { DASHBOARD_QUERIES, median } from './dashboard-queries.js';
import type { BenchResult } from './harness.js';

const DATA = { hosts: 10, hours: 168, replica: 'a', interval: 60 } as const;
const DAY = 86_400_000;
const END = DATA_START_MS + 7 * DAY;
const STEP = 600_000; // Grafana's step for 7 days on a ~1000 px panel
const REFRESHES = 10;

async function panel(url: string, expr: string, start: number, end: number, step: number): Promise<unknown> {
  const res = await fetch(`${url}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr, start: String(start / 1000), end: String(end / 1000), step: String(step / 1000) }).toString(),
  });
  const body = (await res.json()) as { status?: string };
  if (res.status !== 200 || body.status !== 'success') throw new Error(`${expr}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  return body;
}

/** refresh asks every panel, 6 at a time, and returns the wall time (ms) and the answers. */
async function refresh(url: string): Promise<{ ms: number; answers: unknown[] }> {
  const t0 = performance.now();
  const answers: unknown[] = new Array(DASHBOARD_QUERIES.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < DASHBOARD_QUERIES.length) {
        const i = next++;
        answers[i] = await panel(url, DASHBOARD_QUERIES[i]!.expr, END - 7 * DAY, END, STEP);
      }
    }),
  );
  return { ms: performance.now() - t0, answers };
}

export async function run(): Promise<BenchResult[]> {
  const promtool = findBinary('promtool');
  const redisBin = findBinary('redis-server');
  if (promtool === undefined || redisBin === undefined) {
    console.log('query-frontend.bench: SKIPPED (needs promtool and redis-server)');
    return [];
  }
  const data = await cachedBlocks(promtool, DATA);
  console.log(`query-frontend.bench: ${DATA.hosts} hosts x 7 d at ${DATA.interval} s at ${data.dir} (${data.generatedMs > 0 ? `generated in ${(data.generatedMs / 1000).toFixed(1)} s` : 'cached'})`);
  const work = await mkdtemp(join(tmpdir(), 'tessera-bench-qfe-'));
  const services = new ServiceGroup();
  let redis: ManagedProcess | undefined;
  const out: BenchResult[] = [];
  try {
    const bucketCfg = join(work, 'bucket.yml');
    await writeFile(bucketCfg, `type: FILESYSTEM\nconfig:\n  directory: ${join(work, 'bucket')}\n`);
    await uploadBlocks([data.dir], bucketCfg, { cluster: 'c1', replica: 'a' });
    const store = await services.add(startStore({ objstoreConfigFile: bucketCfg, dataDir: join(work, 'store') }));
    const query = await services.add(startQuery({ endpoints: [store.grpcAddress!], replicaLabels: ['replica'], extraArgs: ['--query.max-samples=500000000', '--query.timeout=10m'] }));
    const redisPort = await freePort();
    redis = await startRedisServer(redisBin, redisPort, work);
    const frontend = (name: string, cache: string) =>
      services.add(
        startTessera(
          'query-frontend',
          [`--query-frontend.downstream-url=${query.httpUrl}`, '--query-range.split-interval=24h', ...(cache !== '' ? [`--query-range.response-cache-config=${cache}`] : [])],
          { name, grpc: false },
        ),
      );
    const inMemory = 'type: IN-MEMORY\nconfig:\n  max_size: 512MB\n';
    const redisCfg = `type: REDIS\nconfig:\n  addr: 127.0.0.1:${redisPort}\n  read_timeout: 500ms\n  write_timeout: 500ms\n`;

    // The querier's own answers (and the warm-up of the store's caches) come first.
    const direct = await refresh(query.httpUrl);
    const setups: [string, string][] = [
      ['querier alone', ''],
      ['frontend, no cache', ''],
      ['frontend, IN-MEMORY', inMemory],
      ['frontend, REDIS', redisCfg],
    ];
    for (const [name, cache] of setups) {
      const url = name === 'querier alone' ? query.httpUrl : (await frontend(`tessera query-frontend (${name})`, cache)).httpUrl;
      const times: number[] = [];
      let equal = true;
      // Without a cache every refresh costs the same: 3 show it; the cached setups refresh 10 times.
      const n = cache === '' ? 3 : REFRESHES;
      for (let i = 0; i < n; i++) {
        const r = await refresh(url);
        times.push(r.ms);
        if (!isDeepStrictEqual(r.answers, direct.answers)) equal = false;
      }
      const warm = median(times.slice(1));
      console.log(
        `query-frontend ${name.padEnd(22)} first refresh ${times[0]!.toFixed(0).padStart(6)} ms   median of later refreshes ${warm.toFixed(1).padStart(7)} ms   total ${times.reduce((a, b) => a + b, 0).toFixed(0).padStart(6)} ms   ${equal ? 'all answers equal to the querier' : 'ANSWERS DIFFER'}`,
      );
      const key = name.replace(/[^a-zA-Z-]+/g, '-').replace(/-+$/, '');
      out.push({ name: `query-frontend ${key} first refresh`, value: times[0]!, unit: 'ms' });
      out.push({ name: `query-frontend ${key} warm refresh (median)`, value: warm, unit: 'ms' });
      out.push({ name: `query-frontend ${key} equal answers`, value: equal ? 1 : 0, unit: 'bool' });

      if (cache !== '') {
        // The issue's scale point: an 8 h sum by (mode) (rate) on a fresh key, cold then warm.
        const expr = 'sum by (mode) (rate(node_cpu_seconds_total[5m]))';
        const s = END - DAY - 8 * 3_600_000;
        const t0 = performance.now();
        await panel(url, expr, s, END - DAY, 15_000);
        const cold = performance.now() - t0;
        const warmRuns: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t1 = performance.now();
          await panel(url, expr, s, END - DAY, 15_000);
          warmRuns.push(performance.now() - t1);
        }
        console.log(`query-frontend ${name.padEnd(22)} 8 h sum by (mode) (rate) at 15 s: cold ${cold.toFixed(0)} ms, warm ${median(warmRuns).toFixed(1)} ms (${(cold / median(warmRuns)).toFixed(0)}x)`);
        out.push({ name: `query-frontend ${key} 8h cpu-by-mode cold`, value: cold, unit: 'ms' });
        out.push({ name: `query-frontend ${key} 8h cpu-by-mode warm`, value: median(warmRuns), unit: 'ms' });
      }
    }
    return out;
  } finally {
    await services.stopAll();
    await redis?.kill();
    await rm(work, { recursive: true, force: true });
  }
}
