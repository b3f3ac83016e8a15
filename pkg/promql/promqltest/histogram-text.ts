import { CounterResetHint, type FloatHistogram } from '../../histogram/index.js';

function num(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Inf' : v === -Infinity ? '-Inf' : String(v);
}

/** histogramTestExpression renders h in the `{{...}}` notation of test scripts. */
export function histogramTestExpression(h: FloatHistogram): string {
  const parts: string[] = [];
  if (h.schema !== 0) parts.push(`schema:${h.schema}`);
  if (h.count !== 0) parts.push(`count:${num(h.count)}`);
  if (h.sum !== 0) parts.push(`sum:${num(h.sum)}`);
  if (h.zeroCount !== 0) parts.push(`z_bucket:${num(h.zeroCount)}`);
  if (h.zeroThreshold !== 0) parts.push(`z_bucket_w:${num(h.zeroThreshold)}`);
  if (h.customValues.length > 0) parts.push(`custom_values:[${h.customValues.map(num).join(' ')}]`);
  const hints: Record<number, string> = {
    [CounterResetHint.CounterReset]: 'reset',
    [CounterResetHint.NotCounterReset]: 'not_reset',
    [CounterResetHint.Gauge]: 'gauge',
  };
  const hint = hints[h.counterResetHint];
  if (hint !== undefined) parts.push(`counter_reset_hint:${hint}`);
  const render = (spans: FloatHistogram['positiveSpans'], buckets: number[], prefix: string): void => {
    if (buckets.length === 0) return;
    const first = spans[0]?.offset ?? 0;
    const out: number[] = [];
    let bi = 0;
    spans.forEach((s, i) => {
      if (i > 0) for (let k = 0; k < s.offset; k++) out.push(0);
      for (let k = 0; k < s.length; k++) out.push(buckets[bi++] ?? 0);
    });
    if (first !== 0) parts.push(`${prefix}offset:${first}`);
    parts.push(`${prefix}buckets:[${out.map(num).join(' ')}]`);
  };
  render(h.positiveSpans, h.positiveBuckets, '');
  render(h.negativeSpans, h.negativeBuckets, 'n_');
  return `{{${parts.join(' ')}}}`;
}
