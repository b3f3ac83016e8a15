/**
 * Issue 14: a 30-day range query through `tessera query-frontend` (24h split, no cache) in front of
 * one `tessera query` vs two behind a round-robin HTTP balancer (what a Kubernetes Service does for
 * Thanos's single --query-frontend.downstream-url), plus the two queriers with
 * --query-frontend.vertical-shards=2. All queriers read the same `tessera store` over a FILESYSTEM
 * bucket. Every answer is checked equal to the querier's own. Prints /proc/loadavg before and after
 * (the machine may be shared: the numbers are wall times).
 *
 * Data: the project's generator, 5 hosts x 30 days at 120 s, written by our block writer as 2-day
 * blocks (the compactor's level; promtool's 2h blocks would take an hour to make here).
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DataSet, writeDataSetBlocks } from '../pkg/datagen/index.js';
import { DATA_START_MS, benchCacheDir, cachedDir } from '../test/e2e/fixtures.js';
import { ServiceGroup, startQuery, startStore, startTessera, uploadBlocks } from '../test/e2e/services.js';
import { median } from './dashboard-queries.js';
import type { BenchResult } from './harness.js';

const DATA = { hosts: 5, hours: 720, replica: 'a', intervalSec: 120 } as const;
const DAY = 86_400_000;
const END = DATA_START_MS + 30 * DAY;
const STEP = 1_800_000; // about Grafana's step for 30 days on a ~1400 px panel
const RUNS = 3;
const QUERIES = ['sum by (mode) (rate(node_cpu_seconds_total[10m]))', 'sum by (instance) (rate(http_requests_total[10m]))', 'avg by (instance) (node_memory_MemAvailable_bytes)'];

async function ask(url: string, expr: string): Promise<unknown> {
  const res = await fetch(`${url}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr, start: String((END - 30 * DAY) / 1000), end: String(END / 1000), step: String(STEP / 1000) }).toString(),
  });
  const body = (await res.json()) as { status?: string };
  if (res.status !== 200 || body.status !== 'success') throw new Error(`${expr}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  return body;
}

/** roundRobin is a minimal HTTP balancer: each request goes to the next target, piped both ways. */
async function roundRobin(targets: readonly string[]): Promise<{ url: string; server: Server }> {
  let next = 0;
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', targets[next++ % targets.length]);
    const up = request(target, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** blocks returns the data set's 2-day blocks, written once under the bench cache dir. */
async function blocks(): Promise<{ dir: string; generatedMs: number }> {
  return cachedDir(join(benchCacheDir(), `dgw1-h${DATA.hosts}-${DATA.hours}h-i${DATA.intervalSec}-${DATA.replica}-2d`), async (tmp) => {
    await mkdir(tmp, { recursive: true });
    await writeDataSetBlocks(new DataSet(DATA), tmp, { blockMs: 2 * DAY });
  });
}

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim();

export async function run(): Promise<BenchResult[]> {
  const data = await blocks();
  console.log(`query-frontend-30d.bench: ${DATA.hosts} hosts x 30 d at ${DATA.intervalSec} s at ${data.dir} (${data.generatedMs > 0 ? `generated in ${(data.generatedMs / 1000).toFixed(1)} s` : 'cached'})`);
  const work = await mkdtemp(join(tmpdir(), 'tessera-bench-qfe30-'));
  const services = new ServiceGroup();
  let lb: Server | undefined;
  const out: BenchResult[] = [];
  try {
    const bucketCfg = join(work, 'bucket.yml');
    await writeFile(bucketCfg, `type: FILESYSTEM\nconfig:\n  directory: ${join(work, 'bucket')}\n`);
    await uploadBlocks([data.dir], bucketCfg, { cluster: 'c1', replica: 'a' });
    const store = await services.add(startStore({ objstoreConfigFile: bucketCfg, dataDir: join(work, 'store') }));
    const queryArgs = { endpoints: [store.grpcAddress!], replicaLabels: ['replica'], extraArgs: ['--query.max-samples=500000000', '--query.timeout=10m'] };
    const q1 = await services.add(startQuery(queryArgs));
    const q2 = await services.add(startQuery(queryArgs));
    const balancer = await roundRobin([q1.httpUrl, q2.httpUrl]);
    lb = balancer.server;
    const frontend = async (name: string, downstream: string, shards: number) =>
      (
        await services.add(
          startTessera('query-frontend', [`--query-frontend.downstream-url=${downstream}`, '--query-range.split-interval=24h', `--query-frontend.vertical-shards=${shards}`], {
            name,
            grpc: false,
          }),
        )
      ).httpUrl;

    console.log(`loadavg before: ${loadavg()}`);
    // The querier's own answers first (they also warm the store's caches and both queriers).
    const want = await Promise.all(QUERIES.map((q) => ask(q1.httpUrl, q)));
    await Promise.all(QUERIES.map((q) => ask(q2.httpUrl, q)));
    const setups: [string, string][] = [
      ['one querier, no frontend', q1.httpUrl],
      ['frontend -> one querier', await frontend('tessera query-frontend (one querier)', q1.httpUrl, 0)],
      ['frontend -> two queriers', await frontend('tessera query-frontend (two queriers)', balancer.url, 0)],
      ['frontend (2 shards) -> two queriers', await frontend('tessera query-frontend (two queriers, 2 shards)', balancer.url, 2)],
    ];
    for (const [name, url] of setups) {
      for (const [i, q] of QUERIES.entries()) {
        const times: number[] = [];
        let equal = true;
        for (let r = 0; r < RUNS; r++) {
          const t0 = performance.now();
          const got = await ask(url, q);
          times.push(performance.now() - t0);
          if (!isDeepStrictEqual(got, want[i])) equal = false;
        }
        const m = median(times);
        console.log(`query-frontend-30d ${name.padEnd(36)} ${q.padEnd(52)} median ${m.toFixed(0).padStart(6)} ms (${times.map((t) => t.toFixed(0)).join(', ')})   ${equal ? 'equal' : 'ANSWERS DIFFER'}`);
        out.push({ name: `query-frontend-30d ${name} q${i + 1}`, value: m, unit: 'ms' });
        out.push({ name: `query-frontend-30d ${name} q${i + 1} equal answers`, value: equal ? 1 : 0, unit: 'bool' });
      }
    }
    console.log(`loadavg after: ${loadavg()}`);
    return out;
  } finally {
    lb?.closeAllConnections();
    lb?.close();
    await services.stopAll();
    await rm(work, { recursive: true, force: true });
  }
}
