import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downsampleBlock, RES_1H, RES_5M } from '../pkg/downsample/index.js';
import { Labels } from '../pkg/labels/index.js';
import { InMemoryBucket, uploadDir } from '../pkg/objstore/index.js';
import { Engine, type QueryResult } from '../pkg/promql/index.js';
import { StoreQueryable } from '../pkg/query/index.js';
import { BucketStore, chunkSamples, inProcessClient, type StoreClient } from '../pkg/store/index.js';
import type { SeriesRequest } from '../pkg/storepb/index.js';
import { BlockWriter, type BlockMeta } from '../pkg/tsdb/index.js';
import type { BenchResult } from './harness.js';

/**
 * Issue 9: a 30-day range query at 1h step over downsampled data vs over raw data.
 *
 * Data: 20 hosts × (one gauge, one counter) × 30 days at a 15 s scrape interval (3 × 10-day raw
 * blocks, 6.9 M samples), each raw block downsampled to 5m and that to 1h with downsampleBlock
 * (as the compactor chains them); all nine blocks in one in-memory bucket behind one BucketStore,
 * read through StoreQueryable and the PromQL engine. "Samples read" are the samples of the chunks
 * the store sends (for aggregate chunks: windows, as the store's sample limit counts them).
 * Queries are evaluated 1 ms before each hour, where an hour window holds the same raw samples as
 * the aggregates stamped in it. Latency: one run after a warm-up run (index cache warm).
 */
const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const H = 3_600_000;
const D = 24 * H;
const DAYS = 30;
const BLOCK_DAYS = 10;
const SCRAPE = 15_000;
const HOSTS = 20;
const EXT = Labels.fromStrings('cluster', 'bench');

const gauge = (h: number, i: number): number => 1 + ((i * (7 + h)) % 97) / 10 + Math.sin(i / 240 + h);
// A jittered counter; for h % 5 = 0 (4 of 20 hosts) the jitter exceeds the slope, so it resets
// every few samples and its rate grows with time (a stress case for the counter aggregate).
const counter = (h: number, i: number): number => i * (3 + (h % 5)) + ((i * 31) % 7);

function seriesList(): { labels: Labels; value: (i: number) => number }[] {
  const out: { labels: Labels; value: (i: number) => number }[] = [];
  for (let h = 0; h < HOSTS; h++) {
    out.push({ labels: Labels.fromStrings('__name__', 'node_load1', 'instance', `host-${h}`), value: (i) => gauge(h, i) });
    out.push({ labels: Labels.fromStrings('__name__', 'http_requests_total', 'instance', `host-${h}`), value: (i) => counter(h, i) });
  }
  return out.sort((a, b) => Labels.compare(a.labels, b.labels));
}

/** countingClient counts the samples of the chunks a store sends. */
function countingClient(inner: StoreClient, counter: { samples: number }): StoreClient {
  return {
    name: inner.name,
    info: (o) => inner.info(o),
    labelNames: (r, o) => inner.labelNames(r, o),
    labelValues: (r, o) => inner.labelValues(r, o),
    async *series(req: SeriesRequest, o) {
      for await (const batch of inner.series(req, o)) {
        for (const r of batch) {
          const ss = r.kind === 'series' ? [r.series] : r.kind === 'batch' ? r.batch : [];
          for (const s of ss) for (const c of s.chunks) counter.samples += chunkSamples(c);
        }
        yield batch;
      }
    },
  };
}

function points(r: QueryResult): Map<string, Float64Array> {
  const v = r.value;
  if (v.type !== 'matrix') throw new Error(`downsampled-query.bench: expected a matrix, got ${v.type}`);
  return new Map(v.value.map((s) => [s.metric.toString(), Float64Array.from(s.floats.points().map((p) => p.f))]));
}

export async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-downq-'));
  try {
    const genStart = performance.now();
    const bkt = new InMemoryBucket();
    const metas: BlockMeta[] = [];
    const series = seriesList();
    let rawSamples = 0;
    for (let b = 0; b < DAYS / BLOCK_DAYS; b++) {
      const mint = T0 + b * BLOCK_DAYS * D;
      const maxt = mint + BLOCK_DAYS * D;
      const w = await BlockWriter.create(join(dir, `raw${b}`), { minTime: mint, maxTime: maxt, thanos: { labels: EXT.toRecord(), downsample: { resolution: 0 }, source: 'bench', index_stats: {} } });
      const n = (maxt - mint) / SCRAPE;
      const ts = Array.from({ length: n }, (_, k) => mint + k * SCRAPE);
      for (const s of series) {
        const first = (mint - T0) / SCRAPE;
        await w.addSeries(s.labels, ts, ts.map((_, k) => s.value(first + k)));
        rawSamples += n;
      }
      let blk = await w.flush();
      await uploadDir(bkt, blk.dir, blk.ulid);
      metas.push(blk.meta);
      for (const res of [RES_5M, RES_1H]) {
        blk = (await downsampleBlock({ blockDir: blk.dir, outDir: join(dir, `ds${b}-${res}`), resolution: res }))!;
        await uploadDir(bkt, blk.dir, blk.ulid);
        metas.push(blk.meta);
      }
    }
    const genMs = performance.now() - genStart;
    console.log(`downsampled-query.bench: ${HOSTS} hosts x 2 series x ${DAYS} d at ${SCRAPE / 1000} s = ${rawSamples} raw samples; raw, 5m, 1h blocks written in ${(genMs / 1000).toFixed(1)} s`);

    const store = new BucketStore({ bucket: bkt });
    await store.sync(new Map(metas.map((m) => [m.ulid, m])));
    const count = { samples: 0 };
    const client = countingClient(inProcessClient(store, 'bucket'), count);
    const engine = new Engine({ maxSamples: 1e9 });
    const start = T0 + H - 1;
    const end = T0 + DAYS * D - 1;
    const measure = async (e: string, maxRes: number): Promise<{ ms: number; samples: number; result: Map<string, Float64Array> }> => {
      const q = () => new StoreQueryable(client, { replicaLabels: [], dedup: false, partialResponse: false, maxSourceResolutionMs: maxRes });
      await engine.rangeQuery(q(), e, start, end, H).exec(); // warm-up
      count.samples = 0;
      const t = performance.now();
      const r = await engine.rangeQuery(q(), e, start, end, H).exec();
      const ms = performance.now() - t;
      return { ms, samples: count.samples, result: points(r) };
    };

    const out: BenchResult[] = [];
    const cases: [string, string, number][] = [
      ['avg_over_time(node_load1[1h])', '1h', RES_1H],
      ['max_over_time(node_load1[1h])', '1h', RES_1H],
      ['rate(http_requests_total[2h])', '1h', RES_1H],
      ['avg_over_time(node_load1[1h])', '5m (auto: step / 5)', RES_5M],
    ];
    for (const [e, resName, res] of cases) {
      const raw = await measure(e, 0);
      const ds = await measure(e, res);
      let maxRel = 0;
      let sumRel = 0;
      let n = 0;
      for (const [k, want] of raw.result) {
        const got = ds.result.get(k);
        if (got === undefined || got.length !== want.length) throw new Error(`downsampled-query.bench: ${e}: ${k} has ${got?.length ?? 0} points at ${resName}, ${want.length} raw`);
        for (let i = 0; i < want.length; i++) {
          const rel = Math.abs(got[i]! - want[i]!) / Math.max(1e-12, Math.abs(want[i]!));
          maxRel = Math.max(maxRel, rel);
          sumRel += rel;
          n++;
        }
      }
      const tag = `${e} @${resName}`;
      out.push({ name: `${tag}: samples read raw / downsampled`, value: raw.samples / ds.samples, unit: `x (${raw.samples} vs ${ds.samples})` });
      out.push({ name: `${tag}: latency raw`, value: raw.ms, unit: 'ms' });
      out.push({ name: `${tag}: latency downsampled`, value: ds.ms, unit: 'ms' });
      out.push({ name: `${tag}: answers differ (max rel.)`, value: maxRel, unit: `(mean ${(sumRel / n).toExponential(2)} over ${n} points)` });
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
