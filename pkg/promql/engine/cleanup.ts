import { Labels } from '../../labels/index.js';
import { ErrExecution } from './errors.js';
import { Floats } from './floats.js';
import type { Matrix, Series } from './value.js';

// Type-and-unit labels go with the metric name (Prometheus DropReserved with type-and-unit labels).
const nameLabels = ['__name__', '__type__', '__unit__'];

/** compareSeries orders series by labels (Prometheus sorts range query results this way). */
export function compareSeries(a: Series, b: Series): number {
  return Labels.compare(a.metric, b.metric);
}

/**
 * cleanupNames applies delayed name removal at the end of evaluation: drops __name__ from series
 * marked dropName, merges series that end up with the same labels when their points do not
 * overlap, and raises Prometheus's duplicate-labelset error when they do.
 */
export function cleanupNames(m: Matrix): Matrix {
  let any = false;
  for (const s of m) if (s.dropName) any = true;
  if (!any) return m;
  const out: Series[] = [];
  const byKey = new Map<string, Series>();
  for (const s of m) {
    const metric = s.dropName ? s.metric.without(nameLabels) : s.metric;
    const k = metric.key();
    const prev = byKey.get(k);
    if (prev === undefined) {
      const ns: Series = { metric, floats: s.floats, histograms: s.histograms, dropName: false };
      byKey.set(k, ns);
      out.push(ns);
      continue;
    }
    const ts = new Set<number>();
    for (let i = 0; i < prev.floats.length; i++) ts.add(prev.floats.ts[i]!);
    for (const p of prev.histograms) ts.add(p.t);
    for (let i = 0; i < s.floats.length; i++) if (ts.has(s.floats.ts[i]!)) throw new ErrExecution('vector cannot contain metrics with the same labelset');
    for (const p of s.histograms) if (ts.has(p.t)) throw new ErrExecution('vector cannot contain metrics with the same labelset');
    prev.floats = Floats.of([...prev.floats.points(), ...s.floats.points()].sort((a, b) => a.t - b.t));
    prev.histograms = [...prev.histograms, ...s.histograms].sort((a, b) => a.t - b.t);
  }
  return out;
}
