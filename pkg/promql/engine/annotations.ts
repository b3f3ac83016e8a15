/** PositionRange is a [start, end) byte offset range in the query text. */
export interface PositionRange {
  readonly start: number;
  readonly end: number;
}

/** Annotation is one warning or info produced by evaluation; text excludes the position. */
export interface Annotation {
  readonly kind: 'warning' | 'info';
  readonly text: string;
  readonly pos: PositionRange | undefined;
}

/**
 * Annotations collects warnings and infos, deduplicated by text (later ones win, as in Prometheus).
 */
export class Annotations {
  readonly #items = new Map<string, Annotation>();

  /** add records an annotation. */
  add(a: Annotation): void {
    this.#items.set(a.text, a);
  }

  /** merge adds every annotation of o. */
  merge(o: Annotations): void {
    for (const a of o.#items.values()) this.#items.set(a.text, a);
  }

  get size(): number {
    return this.#items.size;
  }

  /** values returns the annotations in insertion order. */
  values(): Annotation[] {
    return [...this.#items.values()];
  }

  /**
   * asStrings renders the annotations as the HTTP API does: the text followed by the
   * `(line:col)` position of the culprit expression in `query`.
   */
  asStrings(query: string): { warnings: string[]; infos: string[] } {
    const warnings: string[] = [];
    const infos: string[] = [];
    for (const a of this.#items.values()) {
      const s = a.pos === undefined || query === '' ? a.text : `${a.text} (${startPosInput(query, a.pos.start)})`;
      (a.kind === 'info' ? infos : warnings).push(s);
    }
    return { warnings, infos };
  }
}

/** startPosInput renders a byte offset of query as "line:col" (both 1-based), as Prometheus does. */
export function startPosInput(query: string, pos: number): string {
  if (pos < 0 || pos > query.length) return 'invalid position';
  const before = query.slice(0, pos);
  const lastBreak = before.lastIndexOf('\n');
  let line = 0;
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 10) line++;
  return `${line + 1}:${pos - lastBreak}`;
}

const W = 'PromQL warning: ';
const I = 'PromQL info: ';

function maybeMetric(base: string, metricName: string): string {
  return metricName === '' ? base : `${base} for metric name ${goQ(metricName)}`;
}

/** goQ quotes like Go's %q for the ASCII/UTF-8 names that appear in annotations. */
function goQ(s: string): string {
  return JSON.stringify(s);
}

function fmtG(v: number): string {
  return formatG(v);
}

/** formatG formats a float like Go's %g (shortest representation, exponent for large/small). */
export function formatG(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  // Go's %g uses scientific notation when exp < -4 || exp >= precision (shortest: 21).
  if (exp < -4 || exp >= 21) {
    const s = v.toExponential();
    const [m, e] = s.split('e');
    const en = Number(e);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  return String(v);
}

/** Factories for Prometheus's annotation texts (util/annotations). */
export const annos = {
  invalidQuantile(q: number, pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}quantile value should be between 0 and 1, got ${fmtG(q)}`, pos };
  },
  invalidRatio(q: number, to: number, pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}ratio value should be between -1 and 1, got ${fmtG(q)}, capping to ${fmtG(to)}`, pos };
  },
  rangeTooShort(pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}range too short; does not contain enough samples to extrapolate rate`, pos };
  },
  badBucketLabel(metricName: string, label: string, pos: PositionRange): Annotation {
    return { kind: 'warning', text: maybeMetric(`${W}bucket label "le" is missing or has a malformed value of ${goQ(label)}`, metricName), pos };
  },
  mixedFloatsHistograms(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}encountered a mix of histograms and floats for metric name ${goQ(metricName)}`, pos };
  },
  mixedFloatsHistogramsAgg(pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}encountered a mix of histograms and floats for aggregation`, pos };
  },
  mixedClassicNative(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'warning', text: maybeMetric(`${W}vector contains a mix of classic and native histograms`, metricName), pos };
  },
  histogramCounterResetCollision(pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}conflicting counter resets during histogram aggregation`, pos };
  },
  nativeHistogramNotCounter(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}this native histogram metric is not a counter: ${goQ(metricName)}`, pos };
  },
  nativeHistogramNotGauge(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}this native histogram metric is not a gauge: ${goQ(metricName)}`, pos };
  },
  mixedExponentialCustom(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${goQ(metricName)}`, pos };
  },
  incompatibleCustomBuckets(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}vector contains histograms with incompatible custom buckets for metric name ${goQ(metricName)}`, pos };
  },
  incompatibleBucketLayoutInBinOp(op: string, pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}incompatible bucket layout encountered for binary operator ${op}`, pos };
  },
  sortIneffective(pos: PositionRange): Annotation {
    return { kind: 'warning', text: `${W}sort is ineffective for range queries since results are always ordered by labels`, pos };
  },
  possibleNonCounter(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: `${I}metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${goQ(metricName)}`, pos };
  },
  possibleNonCounterLabel(metricName: string, typeLabel: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: `${I}metric might not be a counter, __type__ label is not set to "counter" or "histogram", got ${goQ(typeLabel)}: ${goQ(metricName)}`, pos };
  },
  histogramQuantileForcedMonotonicity(metricName: string, pos: PositionRange): Annotation {
    return {
      kind: 'info',
      text: maybeMetric(`${I}input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)`, metricName),
      pos,
    };
  },
  incompatibleTypesInBinOp(lhs: string, op: string, rhs: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: `${I}incompatible sample types encountered for binary operator ${goQ(op)}: ${lhs} ${op} ${rhs}`, pos };
  },
  histogramIgnoredInAggregation(agg: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: `${I}ignored histogram in ${agg} aggregation`, pos };
  },
  histogramIgnoredInMixedRange(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: `${I}ignored histograms in a range containing both floats and histograms for metric name ${goQ(metricName)}`, pos };
  },
  nativeHistogramQuantileNaNResult(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: maybeMetric(`${I}input to histogram_quantile has NaN observations, result is NaN`, metricName), pos };
  },
  nativeHistogramQuantileNaNSkew(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: maybeMetric(`${I}input to histogram_quantile has NaN observations, result is skewed higher`, metricName), pos };
  },
  nativeHistogramFractionNaNs(metricName: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: maybeMetric(`${I}input to histogram_fraction has NaN observations, which are excluded from all fractions`, metricName), pos };
  },
  mismatchedCustomBuckets(op: string, pos: PositionRange): Annotation {
    return { kind: 'info', text: `${I}mismatched custom buckets were reconciled during ${op}`, pos };
  },
};
