import { XorChunk, type ChunkMeta } from '../pkg/chunkenc/index.js';
import { Downsampler, RES_1H, RES_5M } from '../pkg/downsample/index.js';
import { timeIt, type BenchResult } from './harness.js';

/**
 * 100 series × 48h at a 15 s interval (1.15 M samples in chunks of 120; counters with jittered
 * timestamps) through Downsampler.series: raw → 5m, then 5m → 1h. Pure CPU on chunks in memory;
 * block I/O is not included.
 */
async function series(): Promise<BenchResult[]> {
  const perSeries = (48 * 3_600_000) / 15_000;
  const raw: ChunkMeta[][] = [];
  for (let s = 0; s < 100; s++) {
    const cs: ChunkMeta[] = [];
    let v = 0;
    for (let i = 0; i < perSeries; i += 120) {
      const c = new XorChunk();
      const app = c.appender();
      for (let k = i; k < i + 120; k++) {
        v += (k * 7919 + s) % 13;
        app.append(k * 15_000 + (k % 3), v);
      }
      cs.push({ ref: 0, minTime: i * 15_000, maxTime: (i + 119) * 15_000 + 2, chunk: c });
    }
    raw.push(cs);
  }
  const ds = new Downsampler();
  const m5 = raw.map((cs) => ds.series(cs, 0, RES_5M));
  const windows = m5.reduce((n, cs) => n + cs.reduce((k, c) => k + c.chunk.numSamples(), 0), 0);
  const to5m = await timeIt(() => raw.map((cs) => ds.series(cs, 0, RES_5M)));
  const to1h = await timeIt(() => m5.map((cs) => ds.series(cs, RES_5M, RES_1H)));
  const samples = raw.length * perSeries;
  return [
    { name: `downsample raw → 5m, ${samples} samples of 100 series`, value: to5m / 1000, unit: `ms (${(samples / to5m).toFixed(1)} M samples/s)` },
    { name: `downsample 5m → 1h, ${windows} 5m windows of 100 series`, value: to1h / 1000, unit: `ms (${(windows / to1h).toFixed(2)} M windows/s)` },
  ];
}

export async function run(): Promise<BenchResult[]> {
  return series();
}
