import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Labels } from '../pkg/labels/index.js';
import type { SeriesRequest } from '../pkg/storepb/index.js';
import { GrpcStoreClient, chunkSamples } from '../pkg/store/index.js';
import { freePort, startProcess, waitFor } from '../pkg/testutil/index.js';
import { BlockWriter, formatBlockMeta, newUlid, parseBlockMeta } from '../pkg/tsdb/index.js';
import type { BenchResult } from './harness.js';

/**
 * Store gateway benchmark: a FILESYSTEM bucket with BLOCKS blocks (one node-exporter-like block
 * hard-linked under BLOCKS ULIDs, each with its own external label `shard`, so every block holds
 * its own series), served by a real `tessera store` process. Reports start-up-to-ready time,
 * resident memory after the queries, bytes and requests read from the bucket per query, and
 * Series throughput.
 */
const BLOCKS = Number(process.env['BENCH_STORE_BLOCKS'] ?? 2000);
const HOSTS = 10;
const SAMPLES = 240; // 1 h at 15 s
const START = 1_767_225_600_000;
const INDEX_CACHE = '64MB';
const QUERY_BUDGET = '1GB';

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

async function makeBucket(root: string): Promise<{ bucketDir: string; seriesPerBlock: number }> {
  const tmpl = join(root, 'template');
  const w = await BlockWriter.create(tmpl);
  const lsets = seriesLabels();
  const ts = Array.from({ length: SAMPLES }, (_, i) => START + i * 15_000);
  let k = 0;
  for (const ls of lsets) {
    k++;
    await w.addSeries(ls, ts, ts.map((_, i) => (i * k) % 977));
  }
  const b = await w.flush();
  const meta = parseBlockMeta(await readFile(join(b.dir, 'meta.json'), 'utf8'));
  const bucketDir = join(root, 'bucket');
  for (let i = 0; i < BLOCKS; i++) {
    const id = newUlid();
    const dir = join(bucketDir, id);
    await mkdir(join(dir, 'chunks'), { recursive: true });
    await link(join(b.dir, 'index'), join(dir, 'index'));
    await link(join(b.dir, 'chunks', '000001'), join(dir, 'chunks', '000001'));
    await writeFile(join(dir, 'meta.json'), formatBlockMeta({ ...meta, ulid: id, thanos: { labels: { shard: `s${String(i).padStart(4, '0')}` }, downsample: { resolution: 0 }, source: 'test', index_stats: {} } }));
  }
  return { bucketDir, seriesPerBlock: lsets.length };
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
    const { bucketDir, seriesPerBlock } = await makeBucket(root);
    res.push({ name: `store: blocks in bucket (${seriesPerBlock} series each)`, value: BLOCKS, unit: 'blocks' });
    res.push({ name: 'store: series in bucket', value: BLOCKS * seriesPerBlock, unit: 'series' });
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const http = `http://127.0.0.1:${httpPort}`;
    const t0 = performance.now();
    proc = startProcess(process.execPath, [
      join(repo, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(repo, 'cmd', 'tessera.ts'),
      'store',
      `--objstore.config=type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`,
      `--data-dir=${join(root, 'data')}`,
      `--grpc-address=127.0.0.1:${grpcPort}`,
      `--http-address=127.0.0.1:${httpPort}`,
      `--index-cache-size=${INDEX_CACHE}`,
      `--store.grpc.downloaded-bytes-limit=${QUERY_BUDGET}`,
      '--log.level=warn',
    ]);
    await waitFor('store ready', async () => (await fetch(`${http}/-/ready`)).ok, 120_000, 10);
    res.push({ name: 'store: start-up to ready (process spawn included)', value: (performance.now() - t0) / 1000, unit: 's' });
    client = new GrpcStoreClient(`127.0.0.1:${grpcPort}`);
    const c = client;
    const metrics = async (): Promise<string> => (await fetch(`${http}/metrics`)).text();
    const m0 = await metrics();
    res.push({ name: 'store: first block sync (list bucket, read every meta.json)', value: metricSum(m0, 'thanos_blocks_meta_sync_duration_seconds_sum') / Math.max(1, metricSum(m0, 'thanos_blocks_meta_sync_duration_seconds_count')), unit: 's' });
    res.push({ name: 'store: resident memory when ready', value: metricSum(m0, 'process_resident_memory_bytes') / 2 ** 20, unit: 'MiB' });
    const query = async (name: string, matchers: SeriesRequest['matchers']): Promise<void> => {
      const before = await metrics();
      let series = 0;
      let samples = 0;
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
      const after = await metrics();
      const bytes = metricSum(after, 'thanos_objstore_bucket_operation_fetched_bytes_total') - metricSum(before, 'thanos_objstore_bucket_operation_fetched_bytes_total');
      const reqs = metricSum(after, 'thanos_objstore_bucket_operations_total') - metricSum(before, 'thanos_objstore_bucket_operations_total');
      res.push({ name: `store: ${name}: series returned`, value: series, unit: 'series' });
      res.push({ name: `store: ${name}: latency`, value: secs * 1000, unit: 'ms' });
      res.push({ name: `store: ${name}: bucket bytes read`, value: bytes / 1024, unit: 'KiB' });
      res.push({ name: `store: ${name}: bucket requests`, value: reqs, unit: 'requests' });
      const parts = ['header', 'postings', 'series', 'chunks'].map((t) => {
        const f = `data_type="${t}"`;
        const kib = (metricSum(after, 'tessera_bucket_store_fetched_bytes_total', f) - metricSum(before, 'tessera_bucket_store_fetched_bytes_total', f)) / 1024;
        const n = metricSum(after, 'tessera_bucket_store_fetch_requests_total', f) - metricSum(before, 'tessera_bucket_store_fetch_requests_total', f);
        return `${t} ${kib.toFixed(0)} KiB/${n}`;
      });
      res.push({ name: `store: ${name}: reads by kind: ${parts.join(', ')}`, value: reqs, unit: 'requests' });
      res.push({ name: `store: ${name}: throughput`, value: series / secs, unit: 'series/s' });
      res.push({ name: `store: ${name}: throughput`, value: samples / secs, unit: 'samples/s' });
    };
    await query('1 series, 1 block (cold)', [{ type: 0, name: '__name__', value: 'up' }, { type: 0, name: 'shard', value: 's0007' }, { type: 0, name: 'instance', value: 'host-0003:9100' }]);
    await query('80 series, 1 block (warm header)', [{ type: 0, name: '__name__', value: 'node_cpu_seconds_total' }, { type: 0, name: 'shard', value: 's0007' }]);
    await query(`up over all ${BLOCKS} blocks (cold headers)`, [{ type: 0, name: '__name__', value: 'up' }]);
    await query(`up over all ${BLOCKS} blocks (warm, cached)`, [{ type: 0, name: '__name__', value: 'up' }]);
    await query('node_cpu over 100 blocks', [{ type: 0, name: '__name__', value: 'node_cpu_seconds_total' }, { type: 2, name: 'shard', value: 's00[0-9][0-9]' }]);
    const m = await metrics();
    res.push({ name: 'store: resident memory after queries', value: metricSum(m, 'process_resident_memory_bytes') / 2 ** 20, unit: 'MiB' });
    res.push({ name: 'store: heap used after queries', value: metricSum(m, 'nodejs_heap_size_used_bytes') / 2 ** 20, unit: 'MiB' });
    res.push({ name: 'store: index cache in use', value: metricSum(m, 'thanos_store_index_cache_total_size_bytes') / 2 ** 20, unit: `MiB (budget ${INDEX_CACHE}, per-query budget ${QUERY_BUDGET})` });
    res.push({ name: 'store: index-headers loaded', value: metricSum(m, 'thanos_bucket_store_blocks_loaded'), unit: 'blocks' });
    return res;
  } finally {
    client?.close();
    await proc?.stop();
    await rm(root, { recursive: true, force: true });
  }
}
