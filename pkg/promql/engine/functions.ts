import { RE2JS } from 're2js';
import { Labels, MetricName, compareStrings } from '../../labels/index.js';
import type { Call, Expr } from '../parser/index.js';
import { annos } from './annotations.js';
import { ErrExecution } from './errors.js';
import type { EvalHelper, InstantFn } from './eval-helper.js';
import { histogramFunctions } from './histogram-functions.js';
import { funcHistogramQuantile, funcHistogramQuantiles } from './histogram-quantile.js';
import type { Sample, Vector } from './value.js';

function out(metric: Labels, f: number, dropName: boolean, ts: number): Sample {
  return { metric, t: ts, f, h: undefined, dropName };
}

/** simple returns an InstantFn applying f to each float sample (histograms are dropped). */
function simple(f: (v: number) => number): InstantFn {
  return (args, _call, enh) => {
    const res: Vector = [];
    for (const s of args[0]!) if (s.h === undefined) res.push(out(s.metric, f(s.f), true, enh.ts));
    return res;
  };
}

/** stringArg returns the value of a string literal argument. */
export function stringArg(e: Expr | undefined): string {
  while (e !== undefined && (e.kind === 'ParenExpr' || e.kind === 'StepInvariantExpr')) e = e.expr;
  if (e === undefined || e.kind !== 'StringLiteral') throw new ErrExecution('expected string literal argument');
  return e.val;
}

function scalarOf(v: Vector | undefined): number {
  return v?.[0]?.f ?? NaN;
}

function dateFn(f: (d: Date) => number): InstantFn {
  return (args, call, enh) => {
    if (call.args.length === 0) {
      return [out(Labels.EMPTY, f(new Date(enh.ts)), false, enh.ts)];
    }
    const res: Vector = [];
    for (const s of args[0]!) {
      if (s.h !== undefined) continue;
      res.push(out(s.metric, f(new Date(Math.trunc(s.f * 1000))), true, enh.ts));
    }
    return res;
  };
}

function daysInMonth(d: Date): number {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

function dayOfYear(d: Date): number {
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1;
}

/** goRound rounds half away from zero, like Go's math.Round. */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** sortByValue sorts ascending (asc) or descending with NaN last, stably. */
function sortByValue(v: Vector, asc: boolean): Vector {
  const r = v.filter((s) => s.h === undefined);
  r.sort((a, b) => {
    const an = Number.isNaN(a.f);
    const bn = Number.isNaN(b.f);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return asc ? a.f - b.f || 0 : b.f - a.f || 0;
  });
  return r;
}

/** naturalLess compares strings with digit runs compared numerically (Prometheus natsort). */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const ca = a.match(re) ?? [];
  const cb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x === y) continue;
    const xd = /^\d/.test(x);
    const yd = /^\d/.test(y);
    if (xd && yd) {
      const xt = x.replace(/^0+/, '');
      const yt = y.replace(/^0+/, '');
      if (xt.length !== yt.length) return xt.length - yt.length;
      if (xt !== yt) return xt < yt ? -1 : 1;
      return x.length - y.length;
    }
    return compareStrings(x, y);
  }
  return ca.length - cb.length;
}

function sortByLabel(desc: boolean): InstantFn {
  return (args, call, enh) => {
    if (enh.isRangeQuery) enh.annotate(annos.sortIneffective(call.posRange));
    const names = call.args.slice(1).map(stringArg);
    const r = args[0]!.slice();
    r.sort((a, b) => {
      for (const n of names) {
        const x = a.metric.get(n);
        const y = b.metric.get(n);
        if (x === y) continue;
        const c = naturalCompare(x, y);
        return desc ? -c : c;
      }
      const c = Labels.compare(a.metric, b.metric);
      return desc ? -c : c;
    });
    return r;
  };
}

/** isValidLabelName reports whether name is a valid (UTF-8) label name. */
export function isValidLabelName(name: string): boolean {
  if (name === '') return false;
  return !/[\uD800-\uDFFF]/.test(name.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')) && !name.includes('\uFFFD');
}

/**
 * expandTemplate expands `$1`, `${1}`, `$name`, `${name}` in template with the groups of a match,
 * as Go's regexp.Expand does (an unknown or invalid reference expands to "").
 */
export function expandTemplate(template: string, group: (ref: string) => string): string {
  let res = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== '$') {
      res += c;
      i++;
      continue;
    }
    i++;
    if (template[i] === '$') {
      res += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    if (template[i] === '{') {
      const end = template.indexOf('}', i);
      const inner = end < 0 ? '' : template.slice(i + 1, end);
      if (end >= 0 && /^[A-Za-z0-9_]+$/.test(inner)) {
        name = inner;
        i = end + 1;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(template.slice(i));
      if (m !== null) {
        name = m[0];
        i += m[0].length;
      }
    }
    if (name === undefined) {
      res += '$';
      continue;
    }
    res += group(name);
  }
  return res;
}

const labelReplace: InstantFn = (args, call, enh) => {
  const dst = stringArg(call.args[1]);
  const repl = stringArg(call.args[2]);
  const src = stringArg(call.args[3]);
  const regexStr = stringArg(call.args[4]);
  let re: RE2JS;
  try {
    re = RE2JS.compile(`^(?s:${regexStr})$`);
  } catch (err) {
    throw new ErrExecution(`invalid regular expression in label_replace(): ${regexStr}`);
  }
  if (!isValidLabelName(dst)) throw new ErrExecution(`invalid destination label name in label_replace(): ${dst}`);
  const named = re.namedGroups();
  const res: Vector = [];
  for (const s of args[0]!) {
    const m = re.matcher(s.metric.get(src));
    if (!m.matches()) {
      res.push({ ...s, t: enh.ts });
      continue;
    }
    const v = expandTemplate(repl, (ref) => {
      const idx = /^\d+$/.test(ref) ? Number(ref) : named[ref];
      if (idx === undefined || idx > m.groupCount()) return '';
      return m.group(idx) ?? '';
    });
    const metric = s.metric.builder().set(dst, v).labels();
    const dropName = dst === MetricName ? false : s.dropName;
    res.push({ metric, t: enh.ts, f: s.f, h: s.h, dropName });
  }
  return res;
};

const labelJoin: InstantFn = (args, call, enh) => {
  const dst = stringArg(call.args[1]);
  const sep = stringArg(call.args[2]);
  const srcs = call.args.slice(3).map(stringArg);
  for (const src of srcs) if (!isValidLabelName(src)) throw new ErrExecution(`invalid source label name in label_join(): ${src}`);
  if (!isValidLabelName(dst)) throw new ErrExecution(`invalid destination label name in label_join(): ${dst}`);
  const res: Vector = [];
  for (const s of args[0]!) {
    const v = srcs.map((n) => s.metric.get(n)).join(sep);
    const metric = s.metric.builder().set(dst, v).labels();
    res.push({ metric, t: enh.ts, f: s.f, h: s.h, dropName: dst === MetricName ? false : s.dropName });
  }
  return res;
};

/** instantFunctions maps function names to their implementations over instant vectors. */
export const instantFunctions: ReadonlyMap<string, InstantFn> = new Map<string, InstantFn>([
  ['abs', simple(Math.abs)],
  ['ceil', simple(Math.ceil)],
  ['floor', simple(Math.floor)],
  ['exp', simple(Math.exp)],
  ['sqrt', simple(Math.sqrt)],
  ['ln', simple(Math.log)],
  ['log2', simple(Math.log2)],
  ['log10', simple(Math.log10)],
  ['sin', simple(Math.sin)],
  ['cos', simple(Math.cos)],
  ['tan', simple(Math.tan)],
  ['asin', simple(Math.asin)],
  ['acos', simple(Math.acos)],
  ['atan', simple(Math.atan)],
  ['sinh', simple(Math.sinh)],
  ['cosh', simple(Math.cosh)],
  ['tanh', simple(Math.tanh)],
  ['asinh', simple(Math.asinh)],
  ['acosh', simple(Math.acosh)],
  ['atanh', simple(Math.atanh)],
  ['deg', simple((v) => (v * 180) / Math.PI)],
  ['rad', simple((v) => (v * Math.PI) / 180)],
  ['sgn', simple((v) => (v > 0 ? 1 : v < 0 ? -1 : v))],
  [
    'round',
    (args, call, enh) => {
      const to = call.args.length > 1 ? scalarOf(args[1]) : 1;
      const inv = 1 / to;
      const res: Vector = [];
      for (const s of args[0]!) if (s.h === undefined) res.push(out(s.metric, Math.floor(s.f * inv + 0.5) / inv, true, enh.ts));
      return res;
    },
  ],
  [
    'clamp',
    (args, _call, enh) => {
      const min = scalarOf(args[1]);
      const max = scalarOf(args[2]);
      if (max < min) return [];
      const res: Vector = [];
      for (const s of args[0]!) if (s.h === undefined) res.push(out(s.metric, Math.max(min, Math.min(max, s.f)), true, enh.ts));
      return res;
    },
  ],
  [
    'clamp_max',
    (args, _call, enh) => {
      const max = scalarOf(args[1]);
      const res: Vector = [];
      for (const s of args[0]!) if (s.h === undefined) res.push(out(s.metric, Math.min(max, s.f), true, enh.ts));
      return res;
    },
  ],
  [
    'clamp_min',
    (args, _call, enh) => {
      const min = scalarOf(args[1]);
      const res: Vector = [];
      for (const s of args[0]!) if (s.h === undefined) res.push(out(s.metric, Math.max(min, s.f), true, enh.ts));
      return res;
    },
  ],
  [
    'scalar',
    (args, _call, enh) => {
      const floats = args[0]!.filter((s) => s.h === undefined);
      const f = floats.length === 1 ? floats[0]!.f : NaN;
      return [out(Labels.EMPTY, f, false, enh.ts)];
    },
  ],
  ['vector', (args, _call, enh) => [out(Labels.EMPTY, scalarOf(args[0]), false, enh.ts)]],
  ['time', (_args, _call, enh) => [out(Labels.EMPTY, enh.ts / 1000, false, enh.ts)]],
  ['pi', (_args, _call, enh) => [out(Labels.EMPTY, Math.PI, false, enh.ts)]],
  ['start', (_args, _call, enh) => [out(Labels.EMPTY, enh.queryStart / 1000, false, enh.ts)]],
  ['end', (_args, _call, enh) => [out(Labels.EMPTY, enh.queryEnd / 1000, false, enh.ts)]],
  ['range', (_args, _call, enh) => [out(Labels.EMPTY, (enh.queryEnd - enh.queryStart) / 1000, false, enh.ts)]],
  ['step', (_args, _call, enh) => [out(Labels.EMPTY, enh.queryStep / 1000, false, enh.ts)]],
  ['min_of', (args, _call, enh) => [out(Labels.EMPTY, Math.min(scalarOf(args[0]), scalarOf(args[1])), false, enh.ts)]],
  ['max_of', (args, _call, enh) => [out(Labels.EMPTY, Math.max(scalarOf(args[0]), scalarOf(args[1])), false, enh.ts)]],
  [
    'timestamp',
    (args, _call, enh) => {
      const res: Vector = [];
      for (const s of args[0]!) res.push(out(s.metric, s.t / 1000, true, enh.ts));
      return res;
    },
  ],
  ['year', dateFn((d) => d.getUTCFullYear())],
  ['month', dateFn((d) => d.getUTCMonth() + 1)],
  ['day_of_month', dateFn((d) => d.getUTCDate())],
  ['day_of_week', dateFn((d) => d.getUTCDay())],
  ['day_of_year', dateFn(dayOfYear)],
  ['days_in_month', dateFn(daysInMonth)],
  ['hour', dateFn((d) => d.getUTCHours())],
  ['minute', dateFn((d) => d.getUTCMinutes())],
  [
    'sort',
    (args, call, enh) => {
      if (enh.isRangeQuery) enh.annotate(annos.sortIneffective(call.posRange));
      return sortByValue(args[0]!, true);
    },
  ],
  [
    'sort_desc',
    (args, call, enh) => {
      if (enh.isRangeQuery) enh.annotate(annos.sortIneffective(call.posRange));
      return sortByValue(args[0]!, false);
    },
  ],
  ['sort_by_label', sortByLabel(false)],
  ['sort_by_label_desc', sortByLabel(true)],
  ['label_replace', labelReplace],
  ['label_join', labelJoin],
  [
    'absent',
    (args, call, enh) => {
      if (args[0]!.length > 0) return [];
      const a = call.args[0]!;
      let e: Expr = a;
      while (e.kind === 'ParenExpr') e = e.expr;
      const metric = e.kind === 'VectorSelector' ? absentLabelsOf(e) : Labels.EMPTY;
      return [out(metric, 1, false, enh.ts)];
    },
  ],
  ['histogram_quantile', funcHistogramQuantile],
  ['histogram_quantiles', funcHistogramQuantiles],
  ...histogramFunctions,
]);

/** absentLabelsOf derives absent()'s output labels from the equality matchers of a selector. */
export function absentLabelsOf(vs: Extract<Expr, { kind: 'VectorSelector' }>): Labels {
  const b = Labels.EMPTY.builder();
  const seen = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === MetricName) continue;
    if (m.type === 0 && !seen.has(m.name)) b.set(m.name, m.value);
    else b.del(m.name);
    seen.add(m.name);
  }
  return b.labels();
}

/** helperTs is exported for tests of functions that depend only on time. */
export function evalInstantFn(name: string, args: Vector[], call: Call, enh: EvalHelper): Vector {
  const fn = instantFunctions.get(name);
  if (fn === undefined) throw new ErrExecution(`unknown function ${name}`);
  return fn(args, call, enh);
}
