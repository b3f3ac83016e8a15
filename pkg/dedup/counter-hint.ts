import type { Labels } from '../labels/index.js';
import { MetricName } from '../labels/index.js';

const counterFuncs: ReadonlySet<string> = new Set(['rate', 'increase', 'irate', 'resets']);
const counterSuffixes = ['_total', '_count', '_sum', '_bucket'] as const;

/**
 * isCounterHint tells whether a selected series should be deduplicated as a counter: when the
 * PromQL function around the selector (SelectHints.func) is rate, increase, irate or resets (as
 * Thanos), or when the metric name ends with _total, _count, _sum or _bucket (Tessera's
 * addition, so that e.g. a plain `x_total` selection does not dip at a replica switch either).
 */
export function isCounterHint(func: string | undefined, lset: Labels): boolean {
  if (func !== undefined && counterFuncs.has(func)) return true;
  const name = lset.get(MetricName);
  if (name === '') return false;
  for (const s of counterSuffixes) if (name.endsWith(s)) return true;
  return false;
}
