import type { FloatHistogram } from '../../histogram/index.js';
import type { SeriesData } from './series-data.js';
import type { HPoint } from './value.js';

/**
 * hpointSize is what one histogram sample counts against max-samples, as Prometheus's
 * HPoint.size(): the histogram's bytes (FloatHistogram.Size(): a 168-byte struct plus 8 bytes a
 * span, bucket and custom bound) and its 8-byte timestamp, in 16-byte float samples.
 */
export function hpointSize(h: FloatHistogram): number {
  const n = h.positiveSpans.length + h.negativeSpans.length + h.positiveBuckets.length + h.negativeBuckets.length + h.customValues.length;
  return Math.floor((168 + 8 * n + 8) / 16);
}

/** hpointsSize sums hpointSize over points (Prometheus's totalHPointSize). */
export function hpointsSize(points: readonly HPoint[]): number {
  let n = 0;
  for (const p of points) n += hpointSize(p.h);
  return n;
}

/**
 * histogramSizePrefix returns prefix sums of the histogram sizes of d (length hn + 1), computed
 * once per series, so a window's count is two lookups.
 */
export function histogramSizePrefix(d: SeriesData): Float64Array {
  if (d.hsz !== undefined && d.hsz.length === d.hn + 1) return d.hsz;
  const p = new Float64Array(d.hn + 1);
  for (let i = 0; i < d.hn; i++) p[i + 1] = p[i]! + hpointSize(d.hvs[i]!);
  d.hsz = p;
  return p;
}
