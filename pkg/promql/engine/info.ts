import { Labels, MatchType, Matcher, MetricName } from '../../labels/index.js';
import type { Call, Expr, SubqueryExpr, VectorSelector } from '../parser/index.js';
import { ErrExecution } from './errors.js';
import { upperBound } from '../../chunkenc/index.js';
import type { SeriesData } from './series-data.js';
import type { Matrix } from './value.js';

/** Labels that identify the target an info series belongs to (hard-coded, as Prometheus). */
const identifyingLabels = ['instance', 'job'];

/** Time modifiers on the path from info()'s first argument down to its first vector selector. */
export type InfoRefPath = readonly { at: number | null; startOrEnd: 'start' | 'end' | null; offset: number }[];

/**
 * InfoPlan is what info() needs beyond its first argument: the matchers that select candidate
 * info series (pre-selected once per query, before evaluation) and the data-label matchers.
 */
export interface InfoPlan {
  /** nameMatchers decide which metrics are info metrics (a base series matching all is not enriched). */
  readonly nameMatchers: readonly Matcher[];
  /** dataMatchers are the non-name matchers of the second argument, by label name. */
  readonly dataMatchers: ReadonlyMap<string, readonly Matcher[]>;
  /** selector selects the candidate info series (name and data matchers, no identifying-label filter). */
  readonly selector: VectorSelector;
  /** refPath maps an evaluation time to the time the info series are read at (@ and offset). */
  readonly refPath: InfoRefPath;
}

/** planInfo builds the InfoPlan of an info() call. */
export function planInfo(call: Call, offsetOf: (n: VectorSelector | SubqueryExpr) => number): InfoPlan {
  const sel = call.args[1];
  const userMatchers = sel !== undefined && sel.kind === 'VectorSelector' ? sel.matchers : [];
  const nameMatchers: Matcher[] = [];
  const dataMatchers = new Map<string, Matcher[]>();
  for (const m of userMatchers) {
    if (m.name === MetricName) nameMatchers.push(m);
    else {
      const l = dataMatchers.get(m.name);
      if (l === undefined) dataMatchers.set(m.name, [m]);
      else l.push(m);
    }
  }
  // Without any name matcher, info() reads target_info; with only negative ones, any *_info metric.
  if (nameMatchers.length === 0) nameMatchers.push(new Matcher(MatchType.Equal, MetricName, 'target_info'));
  else if (!nameMatchers.some((m) => m.type === MatchType.Equal || m.type === MatchType.Regexp)) nameMatchers.unshift(new Matcher(MatchType.Regexp, MetricName, '.+_info'));
  const all: Matcher[] = [...nameMatchers];
  for (const ms of dataMatchers.values()) all.push(...ms);
  const pos = call.posRange;
  const selector: VectorSelector = {
    kind: 'VectorSelector',
    name: '',
    matchers: all,
    offset: 0,
    offsetExpr: null,
    timestamp: null,
    startOrEnd: null,
    anchored: false,
    smoothed: false,
    bypassEmptyMatcherCheck: true,
    posRange: pos,
  } as unknown as VectorSelector;
  const refPath: { at: number | null; startOrEnd: 'start' | 'end' | null; offset: number }[] = [];
  const walk = (e: Expr): boolean => {
    switch (e.kind) {
      case 'VectorSelector':
        refPath.push({ at: e.timestamp, startOrEnd: e.startOrEnd ?? null, offset: offsetOf(e) });
        return true;
      case 'MatrixSelector':
        return walk(e.vectorSelector);
      case 'SubqueryExpr': {
        refPath.push({ at: e.timestamp, startOrEnd: e.startOrEnd ?? null, offset: offsetOf(e) });
        if (walk(e.expr)) return true;
        refPath.pop();
        return false;
      }
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        return walk(e.expr);
      case 'Call':
        return e.args.some(walk);
      case 'AggregateExpr':
        return walk(e.expr) || (e.param !== null && walk(e.param));
      case 'BinaryExpr':
        return walk(e.lhs) || walk(e.rhs);
      default:
        return false;
    }
  };
  const a0 = call.args[0];
  if (a0 !== undefined) walk(a0);
  return { nameMatchers, dataMatchers, selector, refPath };
}

/** infoRefTime applies the @ and offset modifiers of the path to the evaluation time ts. */
export function infoRefTime(path: InfoRefPath, ts: number, queryStart: number, queryEnd: number): number {
  let t = ts;
  for (const p of path) {
    if (p.startOrEnd === 'start') t = queryStart;
    else if (p.startOrEnd === 'end') t = queryEnd;
    else if (p.at !== null) t = p.at;
    t -= p.offset;
  }
  return t;
}

function matchAll(ms: readonly Matcher[], v: string): boolean {
  for (const m of ms) if (!m.matches(v)) return false;
  return true;
}

function sigOf(name: string, l: Labels): string {
  let s = name;
  for (const n of identifyingLabels) {
    const v = l.get(n);
    if (v !== '') s += `\xff${n}\xfe${v}`;
  }
  return s;
}

export interface InfoStep {
  ts: number;
  refT: number;
}

/**
 * combineInfo enriches the base matrix with the data labels of the matching info series, step by
 * step (Prometheus evalInfo/combineWithInfoVector). infos are the pre-selected candidate series;
 * an info series is current at a step when its latest sample at or before the reference time is
 * within the lookback delta and is a float.
 */
export function combineInfo(
  plan: InfoPlan,
  base: Matrix,
  infos: readonly SeriesData[],
  steps: readonly InfoStep[],
  lookback: number,
  emit: (metric: Labels, dropName: boolean, ts: number, f: number, h: Series0['h']) => void,
  check: () => void,
): void {
  const ignored = base.map((s) => matchAll(plan.nameMatchers, s.metric.get(MetricName)));
  // Values of identifying labels over the non-ignored base series; info series must match them.
  const idValues = new Map<string, Set<string>>();
  base.forEach((s, i) => {
    if (ignored[i]) return;
    for (const n of identifyingLabels) {
      const v = s.metric.get(n);
      if (v === '') continue;
      let set = idValues.get(n);
      if (set === undefined) idValues.set(n, (set = new Set()));
      set.add(v);
    }
  });
  const candidates = idValues.size === 0 ? [] : infos.filter((d) => {
    for (const [n, vals] of idValues) if (!vals.has(d.metric.get(n))) return false;
    return true;
  });
  const infoNames = [...new Set(candidates.map((d) => d.metric.get(MetricName)))];
  const baseSigs = base.map((s) => infoNames.map((n) => sigOf(n, s.metric)));
  const infoSigs = candidates.map((d) => sigOf(d.metric.get(MetricName), d.metric));
  const anyNonEmpty = [...plan.dataMatchers.values()].some((ms) => ms.some((m) => !m.matches('')));
  const ptrs = base.map(() => ({ f: 0, h: 0 }));
  const bySig = new Map<string, { d: SeriesData; t: number }>();
  for (let si = 0; si < steps.length; si++) {
    if ((si & 63) === 0) check();
    const { ts, refT } = steps[si]!;
    bySig.clear();
    candidates.forEach((d, i) => {
      const fi = upperBound(d.fts, d.fn, refT) - 1;
      const hi = upperBound(d.hts, d.hn, refT) - 1;
      const ft = fi >= 0 ? d.fts[fi]! : -Infinity;
      const ht = hi >= 0 ? d.hts[hi]! : -Infinity;
      const t = Math.max(ft, ht);
      if (t === -Infinity || t <= refT - lookback) return;
      if (d.sn > 0) {
        const sti = upperBound(d.sts, d.sn, refT) - 1;
        if (sti >= 0 && d.sts[sti]! > t) return;
      }
      if (ht > ft) throw new ErrExecution('info sample should be float');
      const sig = infoSigs[i]!;
      const ex = bySig.get(sig);
      if (ex === undefined || ex.t < t) bySig.set(sig, { d, t });
      else if (ex.t === t) {
        throw new ErrExecution(`found duplicate series for info metric: existing ${ex.d.metric.toString()} @ ${ex.t}, new ${d.metric.toString()} @ ${t}`);
      }
    });
    base.forEach((s, bi) => {
      const p = ptrs[bi]!;
      while (p.f < s.floats.length && s.floats.ts[p.f]! < ts) p.f++;
      while (p.h < s.histograms.length && s.histograms[p.h]!.t < ts) p.h++;
      const hp = s.histograms[p.h];
      let f = 0;
      let h: Series0['h'];
      if (p.f < s.floats.length && s.floats.ts[p.f] === ts) f = s.floats.fs[p.f]!;
      else if (hp !== undefined && hp.t === ts) h = hp.h;
      else return;
      if (ignored[bi]) {
        emit(s.metric, s.dropName, ts, f, h);
        return;
      }
      const add = new Map<string, string>();
      let seen = 0;
      for (const sig of baseSigs[bi]!) {
        const is = bySig.get(sig);
        if (is === undefined) continue;
        seen++;
        is.d.metric.forEach((name, value) => {
          if (name === MetricName) return;
          if (plan.dataMatchers.size > 0 && !plan.dataMatchers.has(name)) return;
          const prev = add.get(name);
          if (prev !== undefined && prev !== value) throw new ErrExecution(`conflicting label: ${name}`);
          if (s.metric.has(name)) return;
          add.set(name, value);
        });
      }
      if (seen === 0 && anyNonEmpty) return;
      let metric = s.metric;
      if (add.size > 0) {
        const b = s.metric.builder();
        for (const [n, v] of add) b.set(n, v);
        metric = b.labels();
      }
      emit(metric, s.dropName, ts, f, h);
    });
  }
}

type Series0 = { h: import('../../histogram/index.js').FloatHistogram | undefined };
