// Native histogram chunk encode/decode throughput on one core: 1000 series × 120 samples, each with
// 20 positive and 4 negative buckets (a typical exponential histogram at schema 3), integer
// (encoding 2) and float (encoding 3) chunks. Decode numbers are the best of 5 rounds.
import { FloatHistogramChunk, HistogramChunk, ValueType, type Chunk } from '../pkg/chunkenc/index.js';
import { FloatHistogram } from '../pkg/histogram/index.js';
import type { BenchResult } from './harness.js';

const SERIES = 1000;
const SAMPLES = 120;
const POS = 20;
const NEG = 4;

function histogramAt(s: number, k: number, float: boolean): FloatHistogram {
  const h = new FloatHistogram();
  h.schema = 3;
  h.zeroThreshold = 2 ** -128;
  h.positiveSpans = [{ offset: -5, length: 12 }, { offset: 3, length: 8 }];
  h.negativeSpans = [{ offset: 0, length: NEG }];
  const f = float ? 0.5 : 1;
  h.positiveBuckets = Array.from({ length: POS }, (_, i) => (k * ((i * 7 + s) % 13) + ((i * s) % 5)) * f);
  h.negativeBuckets = Array.from({ length: NEG }, (_, i) => k * (i % 2) * f);
  h.zeroCount = k * f;
  h.count = h.zeroCount + h.positiveBuckets.reduce((a, b) => a + b, 0) + h.negativeBuckets.reduce((a, b) => a + b, 0);
  h.sum = k * 12.75 + s;
  return h;
}

export async function run(): Promise<BenchResult[]> {
  const res: BenchResult[] = [];
  for (const float of [false, true]) {
    const name = float ? 'float histogram (enc 3)' : 'histogram (enc 2)';
    const input = Array.from({ length: SERIES }, (_, s) => Array.from({ length: SAMPLES }, (_, k) => histogramAt(s, k, float)));
    let t0 = performance.now();
    const chunks: Chunk[] = [];
    for (let s = 0; s < SERIES; s++) {
      const c = float ? new FloatHistogramChunk() : new HistogramChunk();
      const app = c.appender();
      for (let k = 0; k < SAMPLES; k++) app.appendHistogram(1_767_225_600_000 + k * 15_000, input[s]![k]!);
      chunks.push(c);
    }
    const encMs = performance.now() - t0;
    const total = SERIES * SAMPLES;
    const bytes = chunks.reduce((n, c) => n + c.bytes().length, 0);
    res.push({ name: `${name} encode`, value: total / (encMs / 1000), unit: 'samples/s' });
    res.push({ name: `${name} size`, value: bytes / total, unit: 'bytes/sample' });
    const h = new FloatHistogram();
    let best = Infinity;
    let check = 0;
    for (let round = 0; round < 5; round++) {
      t0 = performance.now();
      let it;
      for (const c of chunks) {
        it = c.iterator(it);
        while (it.next() !== ValueType.None) check += it.atFloatHistogram(h).count;
      }
      best = Math.min(best, performance.now() - t0);
    }
    if (check === 0) throw new Error('decoded nothing');
    res.push({ name: `${name} decode + atFloatHistogram (${POS + NEG} buckets)`, value: total / (best / 1000), unit: 'samples/s' });
    best = Infinity;
    for (let round = 0; round < 5; round++) {
      t0 = performance.now();
      let it;
      for (const c of chunks) {
        it = c.iterator(it);
        while (it.next() !== ValueType.None);
      }
      best = Math.min(best, performance.now() - t0);
    }
    res.push({ name: `${name} decode only (next)`, value: total / (best / 1000), unit: 'samples/s' });
  }
  return res;
}
