// Child process of subquery-memory.test.ts (also usable by hand): evaluates
// count_over_time(up[<range>:<step>]) at 1767247200 over 20 `up` series scraped every 15 s,
// with --query.max-samples given, and prints one JSON line with the outcome and memory peaks.
// Usage: node --import tsx [--max-old-space-size=N] subquery-memory-child.ts <step> <maxSamples> [range]
import { Labels } from '../../../labels/index.js';
import { MemoryStorage } from '../../promqltest/memory-storage.js';
import { Engine } from '../engine.js';
import { QueryError } from '../errors.js';

const step = process.argv[2] ?? '100ms';
const maxSamples = Number(process.argv[3] ?? 6_000_000);
const range = process.argv[4] ?? '6h';
const at = 1767247200_000;
const storage = new MemoryStorage();
for (let i = 0; i < 20; i++) {
  const l = Labels.fromStrings('__name__', 'up', 'instance', `host-${i}:9100`, 'job', 'node');
  for (let t = at - 6 * 3600_000 - 600_000; t <= at; t += 15_000) storage.append(l, t, 1);
}
let peakRss = 0;
let peakHeap = 0;
const sample = (): void => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
};
const timer = setInterval(sample, 20);
sample();
const base = process.memoryUsage();
const t0 = performance.now();
const query = `count_over_time(up[${range}:${step}])`;
try {
  const r = await new Engine({ maxSamples }).instantQuery(storage, query, at).exec();
  sample();
  if (r.value.type !== 'vector') throw new Error(`unexpected ${r.value.type}`);
  const counts = [...new Set(r.value.value.map((s) => s.f))];
  console.log(JSON.stringify({ ok: true, query, series: r.value.value.length, counts, ms: Math.round(performance.now() - t0), baseRss: base.rss, peakRss, baseHeap: base.heapUsed, peakHeap }));
} catch (err) {
  sample();
  if (!(err instanceof QueryError)) throw err;
  console.log(JSON.stringify({ ok: false, query, errorType: err.errorType, error: err.message, ms: Math.round(performance.now() - t0), baseRss: base.rss, peakRss, baseHeap: base.heapUsed, peakHeap }));
} finally {
  clearInterval(timer);
}
