import { rm } from 'node:fs/promises';
import { uploadBlock } from '../block/index.js';
import { Labels } from '../labels/index.js';
import type { Bucket } from '../objstore/index.js';
import { BlockWriter } from '../tsdb/index.js';

/** DemoDataOptions describe the generated demo history. */
export interface DemoDataOptions {
  /** endMs is the end of the history (default: now). Blocks are 2h-aligned; the last may be shorter. */
  readonly endMs?: number;
  /** hours of history (default 12), written as 2h blocks. */
  readonly hours?: number;
  /** hosts per replica (default 4). */
  readonly hosts?: number;
  /** replicas are the HA replica names (default a, b): the same series with slightly shifted scrapes. */
  readonly replicas?: readonly string[];
  /** scrapeIntervalMs (default 15 s). */
  readonly scrapeIntervalMs?: number;
}

const TWO_HOURS = 2 * 3600_000;

// A small deterministic PRNG so the demo data is the same on every machine.
function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SeriesGen {
  readonly labels: Labels;
  /** value at scrape index i (counters grow, gauges wander). */
  value(i: number): number;
}

function seriesFor(host: string, seed: number): SeriesGen[] {
  const r = rng(seed);
  const out: SeriesGen[] = [];
  const instance = `${host}:9100`;
  out.push({ labels: Labels.fromRecord({ __name__: 'up', job: 'node', instance }), value: () => 1 });
  for (const mode of ['idle', 'user', 'system', 'iowait']) {
    const rate = mode === 'idle' ? 0.7 + r() * 0.2 : r() * 0.2;
    out.push({ labels: Labels.fromRecord({ __name__: 'node_cpu_seconds_total', job: 'node', instance, cpu: '0', mode }), value: (i) => i * 15 * rate });
  }
  const memBase = 4e9 + r() * 4e9;
  out.push({ labels: Labels.fromRecord({ __name__: 'node_memory_MemAvailable_bytes', job: 'node', instance }), value: (i) => memBase + Math.sin(i / 40) * 5e8 });
  const api = `${host}:8080`;
  for (const code of ['200', '404', '500']) {
    const qps = code === '200' ? 20 + r() * 30 : code === '404' ? 1 + r() : r() * 0.3;
    out.push({ labels: Labels.fromRecord({ __name__: 'http_requests_total', job: 'api', instance: api, handler: '/api', code }), value: (i) => Math.floor(i * 15 * qps) });
  }
  const bounds = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];
  const shares = [0.3, 0.55, 0.8, 0.92, 0.97, 0.995, 1];
  bounds.forEach((le, k) => {
    out.push({ labels: Labels.fromRecord({ __name__: 'http_request_duration_seconds_bucket', job: 'api', instance: api, handler: '/api', le }), value: (i) => Math.floor(i * 15 * 25 * shares[k]!) });
  });
  out.push({ labels: Labels.fromRecord({ __name__: 'http_request_duration_seconds_count', job: 'api', instance: api, handler: '/api' }), value: (i) => Math.floor(i * 15 * 25) });
  out.push({ labels: Labels.fromRecord({ __name__: 'http_request_duration_seconds_sum', job: 'api', instance: api, handler: '/api' }), value: (i) => i * 15 * 25 * 0.12 });
  return out;
}

/**
 * writeDemoBlocks writes `hours` of history for every replica as 2h TSDB blocks into the bucket
 * (chunks, then index, then meta.json, so a partial upload is never a visible block), with Thanos
 * meta sections carrying `{cluster="demo", replica=<r>}`. Returns the uploaded block ULIDs.
 */
export async function writeDemoBlocks(bucket: Bucket, workDir: string, opts: DemoDataOptions = {}): Promise<string[]> {
  const hours = opts.hours ?? 12;
  const step = opts.scrapeIntervalMs ?? 15_000;
  const end = opts.endMs ?? Math.floor(Date.now() / step) * step;
  const hosts = Array.from({ length: opts.hosts ?? 4 }, (_, i) => `host-${i + 1}`);
  const replicas = opts.replicas ?? ['a', 'b'];
  const start = Math.floor((end - hours * 3600_000) / TWO_HOURS) * TWO_HOURS;
  const gens = hosts.flatMap((h, i) => seriesFor(h, 1000 + i)).sort((x, y) => Labels.compare(x.labels, y.labels));
  const ulids: string[] = [];
  for (const [ri, replica] of replicas.entries()) {
    const shift = ri * 250;
    for (let bStart = start; bStart < end; bStart += TWO_HOURS) {
      const bEnd = Math.min(bStart + TWO_HOURS, end);
      const first = Math.ceil((bStart - start - shift) / step);
      const n = Math.floor((bEnd - 1 - start - shift) / step) - first + 1;
      if (n <= 0) continue;
      const w = await BlockWriter.create(workDir, {
        minTime: bStart,
        maxTime: bEnd,
        thanos: { labels: { cluster: 'demo', replica }, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} },
      });
      const ts = new Float64Array(n);
      const vs = new Float64Array(n);
      for (const g of gens) {
        for (let k = 0; k < n; k++) {
          const i = first + k;
          ts[k] = start + i * step + shift;
          vs[k] = g.value(i);
        }
        await w.addSeries(g.labels, ts, vs);
      }
      const written = await w.flush();
      await uploadBlock(bucket, written.dir);
      await rm(written.dir, { recursive: true, force: true });
      ulids.push(written.ulid);
    }
  }
  return ulids;
}
