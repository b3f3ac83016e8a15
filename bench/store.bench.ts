import { link, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Labels } from '../pkg/labels/index.js';
import { FilesystemBucket } from '../pkg/objstore/index.js';
import { StoreGateway } from '../pkg/store-gateway/index.js';
import type { SeriesRequest } from '../pkg/storepb/index.js';
import { GrpcStoreClient, chunkSamples } from '../pkg/store/index.js';
import { freePort, startProcess, waitFor } from '../pkg/testutil/index.js';
import { BlockWriter, formatBlockMeta, newUlid, parseBlockMeta } from '../pkg/tsdb/index.js';
import type { BenchResult } from './harness.js';

/**
 * Store gateway benchmark: a FILESYSTEM bucket with BLOCKS blocks (one node-exporter-like block
 * hard-linked under BLOCKS ULIDs, each with its own external label `shard`, so every block holds
 * its own series; meta.json carries thanos.files as Thanos uploads do), served by a real
 * `tessera store` process. Reports start-up-to-ready time (real process, and in process for
 * BLOCKS and 2 x BLOCKS blocks, cold and restarted), resident memory after the queries, bytes and
 * requests read from the bucket per query, the most fetched data a query held at once, and Series
 * throughput.
 */
const BLOCKS = Number(process.env['BENCH_STORE_BLOCKS'] ?? 2000);
const HOSTS = 10;
const SAMPLES = 240; // 1 h at 15 s
const START = 1_767_225_600_000;
const INDEX_CACHE = '64MB';
const QUERY_BUDGET = '512MB';
/** V8 heap limit of the memory-capped run (node --max-old-space-size, MiB). */
const HEAP_CAP_MB = Number(process.env['BENCH_STORE_HEAP_CAP_MB'] ?? 160);

function seriesLabels(): Labels[] {
  const out: Labels[] = [];
  for (let h = 0; h < HOSTS; h++) {
    const inst = `host-${String(h).padStart(4, '0')}:9100`;
    out.push(Labels.fromStrings('__name__', 'up', 'instance', inst, 'job', 'node'));
    for (let cpu = 0; cpu < 2; cpu++) {
      for (const mode of ['idle', 'system', 'user', 'iowait']) out.push(Labels.fromStrings('__name__', 'node_cpu_seconds_total', 'instance', inst, 'job', 'node', 'cpu', String(cpu), 'mode', mode));
    }
    out.push(Labels.fromStrings('__name__', 'node_memory_MemAvailable_bytes', 'instance', inst, 'job', 'node'));
  }
  return out.sort(Labels.compare);
}

async function makeTemplate(root: string): Promise<{ dir: string; meta: ReturnType<typeof parseBlockMeta>; files: { rel_path: string; size_bytes: number }[]; series: number }> {
  const w = await BlockWriter.create(join(root, 'template'));
  const lsets = seriesLabels();
  const ts = Array.from({ length: SAMPLES }, (_, i) => START + i * 15_000);
  let k = 0;
  for (const ls of lsets) {
    k++;
    await w.addSeries(ls, ts, ts.map((_, i) => (i * k) % 977));
  }
  const b = await w.flush();
  const meta = parseBlockMeta(await readFile(join(b.dir, 'meta.json'), 'utf8'));
  const files = [];
  for (const rel of ['chunks/000001', 'index']) files.push({ rel_path: rel, size_bytes: (await stat(join(b.dir, rel))).size });
  return { dir: b.dir, meta, files, series: lsets.length };
}

async function makeBucket(bucketDir: string, tmpl: Awaited<ReturnType<typeof makeTemplate>>, blocks: number): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    const id = newUlid();
    const dir = join(bucketDir, id);
    await mkdir(join(dir, 'chunks'), { recursive: true });
    await link(join(tmpl.dir, 'index'), join(dir, 'index'));
    await link(join(tmpl.dir, 'chunks', '000001'), join(dir, 'chunks', '000001'));
    const files = [...tmpl.files, { rel_path: 'meta.json' }];
    await writeFile(join(dir, 'meta.json'), formatBlockMeta({ ...tmpl.meta, ulid: id, thanos: { labels: { shard: `s${String(i).padStart(4, '0')}` }, downsample: { resolution: 0 }, source: 'test', index_stats: {}, files } as never }));
  }
}

/** Starts a StoreGateway in this process and returns the time to ready (no process or tsx start-up). */
async function readyInProcess(bucketDir: string, dataDir: string): Promise<{ ms: number; syncMs: number }> {
  const registry = new Registry();
  const gw = new StoreGateway({ bucket: new FilesystemBucket({ directory: bucketDir }), dataDir, grpcAddress: '127.0.0.1:0', httpHost: '127.0.0.1', httpPort: 0, registry });
  const t0 = performance.now();
  await gw.start();
  const ms = performance.now() - t0;
  if (!gw.ready) throw new Error('store gateway not ready after start()');
  const text = await registry.metrics();
  await gw.stop();
  return { ms, syncMs: 1000 * metricSum(text, 'thanos_blocks_meta_sync_duration_seconds_sum') };
}

/** Spawns `tessera store` (through tsx) and waits until /-/ready answers 200. */
async function spawnStore(repo: string, bucketDir: string, dataDir: string, env: NodeJS.ProcessEnv = {}, cache = INDEX_CACHE, queryLimit = QUERY_BUDGET): Promise<{ proc: ReturnType<typeof startProcess>; grpcPort: number; http: string; readyS: number }> {
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const http = `http://127.0.0.1:${httpPort}`;
  const t0 = performance.now();
  const proc = startProcess(process.execPath, [
    join(repo, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
    join(repo, 'cmd', 'tessera.ts'),
    'store',
    `--objstore.config=type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`,
    `--data-dir=${dataDir}`,
    `--grpc-address=127.0.0.1:${grpcPort}`,
    `--http-address=127.0.0.1:${httpPort}`,
    `--index-cache-size=${cache}`,
    // BENCH_STORE_OLD=1 runs against a checkout from before the per-query memory limit existed.
    process.env['BENCH_STORE_OLD'] === '1' ? `--store.grpc.downloaded-bytes-limit=1GB` : `--store.grpc.series-memory-limit=${queryLimit}`,
    '--log.level=warn',
  ], { env });
  await waitFor('store ready', async () => (await fetch(`${http}/-/ready`)).ok, 120_000, 10);
  return { proc, grpcPort, http, readyS: (performance.now() - t0) / 1000 };
}

function metricSum(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (filter !== '' && !line.includes(filter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function run(): Promise<BenchResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'tessera-bench-store-'));
  const res: BenchResult[] = [];
  const repo = join(import.meta.dirname, '..');
  let proc: ReturnType<typeof startProcess> | undefined;
  let client: GrpcStoreClient | undefined;
  try {
    const tmpl = await makeTemplate(root);
    const bucketDir = join(root, 'bucket');
    await makeBucket(bucketDir, tmpl, BLOCKS);
    res.push({ name: `store: blocks in bucket (${tmpl.series} series each)`, value: BLOCKS, unit: 'blocks' });
    res.push({ name: 'store: series in bucket', value: BLOCKS * tmpl.series, unit: 'series' });

    // Start-up in process: no process spawn, no tsx; cold data dir, then a restart on it.
    const bigDir = join(root, 'bucket-2x');
    await makeBucket(bigDir, tmpl, 2 * BLOCKS);
    for (const [dir, n] of [[bucketDir, BLOCKS], [bigDir, 2 * BLOCKS]] as const) {
      const data = join(root, `data-inproc-${n}`);
      const cold = await readyInProcess(dir, data);
      const warm = await readyInProcess(dir, data);
      res.push({ name: `store: ready in process, ${n} blocks, empty data dir (meta sync ${cold.syncMs.toFixed(0)} ms)`, value: cold.ms / 1000, unit: 's' });
      res.push({ name: `store: ready in process, ${n} blocks, restart (meta sync ${warm.syncMs.toFixed(0)} ms)`, value: warm.ms / 1000, unit: 's' });
    }
    {
      const big = await spawnStore(repo, bigDir, join(root, 'data-proc-2x'));
      res.push({ name: `store: start-up to ready, ${2 * BLOCKS} blocks (process spawn + tsx included)`, value: big.readyS, unit: 's' });
      await big.proc.stop();
    }

    const started = await spawnStore(repo, bucketDir, join(root, 'data'));
    proc = started.proc;
    const http = started.http;
    res.push({ name: `store: start-up to ready, ${BLOCKS} blocks (process spawn + tsx included)`, value: started.readyS, unit: 's' });
    client = new GrpcStoreClient(`127.0.0.1:${started.grpcPort}`);
    const c = client;
    const metrics = async (): Promise<string> => (await fetch(`${http}/metrics`)).text();
    const m0 = await metrics();
    res.push({ name: 'store: first block sync (list bucket, read every meta.json)', value: metricSum(m0, 'thanos_blocks_meta_sync_duration_seconds_sum') / Math.max(1, metricSum(m0, 'thanos_blocks_meta_sync_duration_seconds_count')), unit: 's' });
    res.push({ name: 'store: resident memory when ready', value: metricSum(m0, 'process_resident_memory_bytes') / 2 ** 20, unit: 'MiB' });
    const query = async (name: string, matchers: SeriesRequest['matchers']): Promise<void> => {
      const before = await metrics();
      let series = 0;
      let samples = 0;
      let peakRss = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peakRss = Math.max(peakRss, metricSum(await metrics(), 'process_resident_memory_bytes'));
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const q0 = performance.now();
      for await (const batch of c.series({ minTime: START, maxTime: START + 3_600_000, matchers })) {
        for (const f of batch) {
          const ss = f.kind === 'series' ? [f.series] : f.kind === 'batch' ? f.batch : [];
          for (const s of ss) {
            series++;
            for (const ch of s.chunks) samples += chunkSamples(ch);
          }
        }
      }
      const secs = (performance.now() - q0) / 1000;
      sampling = false;
      await sampler;
      const after = await metrics();
      const delta = (name: string, filter = ''): number => metricSum(after, name, filter) - metricSum(before, name, filter);
      const bytes = delta('thanos_objstore_bucket_operation_fetched_bytes_total');
      const reqs = delta('thanos_objstore_bucket_operations_total');
      res.push({ name: `store: ${name}: series returned`, value: series, unit: 'series' });
      res.push({ name: `store: ${name}: latency`, value: secs * 1000, unit: 'ms' });
      res.push({ name: `store: ${name}: bucket bytes read`, value: bytes / 1024, unit: 'KiB' });
      res.push({ name: `store: ${name}: bucket requests`, value: reqs, unit: 'requests' });
      const parts = ['header', 'postings', 'series', 'chunks'].map((t) => {
        const f = `data_type="${t}"`;
        return `${t} ${(delta('tessera_bucket_store_fetched_bytes_total', f) / 1024).toFixed(0)} KiB/${delta('tessera_bucket_store_fetch_requests_total', f)}`;
      });
      res.push({ name: `store: ${name}: reads by kind: ${parts.join(', ')}`, value: reqs, unit: 'requests' });
      res.push({ name: `store: ${name}: most fetched data held at once`, value: delta('tessera_bucket_store_request_peak_in_flight_bytes_sum') / 1024, unit: `KiB (limit ${QUERY_BUDGET})` });
      res.push({ name: `store: ${name}: resident memory, highest sample during the query`, value: peakRss / 2 ** 20, unit: 'MiB' });
      res.push({ name: `store: ${name}: throughput`, value: series / secs, unit: 'series/s' });
      res.push({ name: `store: ${name}: throughput`, value: samples / secs, unit: 'samples/s' });
    };
    await query('1 series, 1 block (cold)', [{ type: 0, name: '__name__', value: 'up' }, { type: 0, name: 'shard', value: 's0007' }, { type: 0, name: 'instance', value: 'host-0003:9100' }]);
    await query('80 series, 1 block (warm header)', [{ type: 0, name: '__name__', value: 'node_cpu_seconds_total' }, { type: 0, name: 'shard', value: 's0007' }]);
    await query(`up over all ${BLOCKS} blocks (cold headers)`, [{ type: 0, name: '__name__', value: 'up' }]);
    await query(`up over all ${BLOCKS} blocks (warm, cached)`, [{ type: 0, name: '__name__', value: 'up' }]);
    await query('node_cpu over 100 blocks', [{ type: 0, name: '__name__', value: 'node_cpu_seconds_total' }, { type: 2, name: 'shard', value: 's00[0-9][0-9]' }]);
    await query(`everything over all ${BLOCKS} blocks`, [{ type: 2, name: '__name__', value: '.+' }]);
    const m = await metrics();
    res.push({ name: 'store: resident memory after queries', value: metricSum(m, 'process_resident_memory_bytes') / 2 ** 20, unit: 'MiB' });
    res.push({ name: 'store: heap used after queries', value: metricSum(m, 'nodejs_heap_size_used_bytes') / 2 ** 20, unit: 'MiB' });
    res.push({ name: 'store: index cache in use', value: metricSum(m, 'thanos_store_index_cache_total_size_bytes') / 2 ** 20, unit: `MiB (budget ${INDEX_CACHE}, per-query memory limit ${QUERY_BUDGET})` });
    res.push({ name: 'store: index-headers loaded', value: metricSum(m, 'thanos_bucket_store_blocks_loaded'), unit: 'blocks' });
    client.close();
    client = undefined;
    await proc.stop();
    proc = undefined;

    // The largest query again, cold, in a process whose V8 heap is capped just above the
    // configured budgets (index cache 16 MiB, per-query limit 64 MiB, plus the process itself and
    // the index-headers): with memory bounded by the budgets it completes.
    const capped = await spawnStore(repo, bucketDir, join(root, 'data-capped'), { NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB}` }, '16MB', '64MB');
    proc = capped.proc;
    const cc = new GrpcStoreClient(`127.0.0.1:${capped.grpcPort}`);
    client = cc;
    let n = 0;
    let outcome = 'completed';
    try {
      for await (const batch of cc.series({ minTime: START, maxTime: START + 3_600_000, matchers: [{ type: 2, name: '__name__', value: '.+' }] })) {
        for (const f of batch) n += f.kind === 'series' ? 1 : f.kind === 'batch' ? f.batch.length : 0;
      }
    } catch (err) {
      outcome = `failed: ${(err as Error).message.slice(0, 80)}${capped.proc.proc.exitCode !== null || capped.proc.proc.signalCode !== null ? ' (process died: ' + /heap out of memory/i.exec(capped.proc.output())?.[0] + ')' : ''}`;
    }
    res.push({ name: `store: everything over all ${BLOCKS} blocks, index cache 16MB, query limit 64MB, ${HEAP_CAP_MB} MiB V8 heap: series returned (${outcome})`, value: n, unit: 'series' });
    return res;
  } finally {
    client?.close();
    await proc?.stop();
    await rm(root, { recursive: true, force: true });
  }
}
