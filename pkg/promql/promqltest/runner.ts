import { CounterResetHint, FloatHistogram } from '../../histogram/index.js';
import { Labels, MetricName } from '../../labels/index.js';
import { Engine } from '../engine/engine.js';
import { QueryError } from '../engine/errors.js';
import { compactHistogram } from '../engine/histogram-ops.js';
import { almostEqual, parseGoFloat } from '../engine/histogram-quantile.js';
import type { QueryResult } from '../engine/engine.js';
import type { Matrix, QueryValue, Vector } from '../engine/value.js';
import { ALL_FEATURES, format, parseExpr, type Expr } from '../parser/index.js';
import { MemoryStorage } from './memory-storage.js';
import { parseScript, type EvalCmd, type ExpectAnno, type LoadCmd } from './script.js';
import type { SequenceValue } from './series-desc.js';
import { histogramTestExpression } from './histogram-text.js';

const epsilon = 0.000001;

/** EvalOutcome is the result of one eval command. */
export interface EvalOutcome {
  readonly line: number;
  readonly expr: string;
  readonly passed: boolean;
  /** error explains a failure (expected vs. actual). */
  readonly error?: string;
}

/** FileOutcome is the result of running one script. */
export interface FileOutcome {
  readonly evals: EvalOutcome[];
  readonly passed: number;
  readonly failed: number;
}

class EvalFailure extends Error {}

const atUnsafe = new Set(['days_in_month', 'day_of_month', 'day_of_week', 'day_of_year', 'hour', 'minute', 'month', 'year', 'predict_linear', 'time', 'timestamp', 'start', 'end', 'range', 'step']);

/** withAtModifier returns expr with `@ ts` set on every selector and subquery that has none. */
function withAtModifier(e: Expr, ts: number): Expr | undefined {
  let unsafe = false;
  const rec = (n: Expr, inAtSubquery: boolean): Expr => {
    switch (n.kind) {
      case 'VectorSelector':
        return inAtSubquery || n.timestamp !== null || n.startOrEnd !== null ? n : { ...n, timestamp: ts };
      case 'MatrixSelector':
        return { ...n, vectorSelector: rec(n.vectorSelector, inAtSubquery) as typeof n.vectorSelector };
      case 'SubqueryExpr': {
        // As upstream: the subquery gets the @ first, so selectors inside it are left alone.
        const hasAt = n.timestamp !== null || n.startOrEnd !== null;
        const inner = rec(n.expr, true);
        return inAtSubquery || hasAt ? { ...n, expr: inner } : { ...n, expr: inner, timestamp: ts };
      }
      case 'Call':
        if (atUnsafe.has(n.func.name)) unsafe = true;
        return { ...n, args: n.args.map((a) => rec(a, inAtSubquery)) };
      case 'AggregateExpr':
        return { ...n, expr: rec(n.expr, inAtSubquery), param: n.param === null ? null : rec(n.param, inAtSubquery) };
      case 'BinaryExpr':
        return { ...n, lhs: rec(n.lhs, inAtSubquery), rhs: rec(n.rhs, inAtSubquery) };
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        return { ...n, expr: rec(n.expr, inAtSubquery) } as Expr;
      default:
        return n;
    }
  };
  const out = rec(e, false);
  return unsafe ? undefined : out;
}

function matchAnno(e: ExpectAnno, s: string): boolean {
  if (e.message !== undefined) return e.message === s;
  if (e.regex !== undefined) return e.regex.test(s);
  return true;
}

function checkAnnotations(cmd: EvalCmd, expr: string, res: QueryResult): void {
  if (cmd.warn && res.warnings.length === 0) throw new EvalFailure(`expected warnings evaluating query ${JSON.stringify(expr)} but got none`);
  if (cmd.info && res.infos.length === 0) throw new EvalFailure(`expected info annotations evaluating query ${JSON.stringify(expr)} but got none`);
  const validate = (expected: ExpectAnno[], actual: string[], type: string): void => {
    if (expected.length === 0) return;
    if (actual.length === 0) throw new EvalFailure(`expected ${type} annotations but none were found`);
    for (const e of expected) {
      if (!actual.some((a) => matchAnno(e, a))) {
        throw new EvalFailure(`expected ${type} annotation matching ${JSON.stringify(e.message ?? e.regex?.source)} but found: ${JSON.stringify([...res.warnings, ...res.infos])}`);
      }
    }
    for (const a of actual) if (!expected.some((e) => matchAnno(e, a))) throw new EvalFailure(`unexpected ${type} annotation ${JSON.stringify(a)}`);
  };
  validate(cmd.expectWarn, res.warnings, 'warn');
  validate(cmd.expectInfo, res.infos, 'info');
  if (cmd.noWarn && res.warnings.length > 0) throw new EvalFailure(`unexpected warning annotations: ${JSON.stringify(res.warnings)}`);
  if (cmd.noInfo && res.infos.length > 0) throw new EvalFailure(`unexpected info annotations: ${JSON.stringify(res.infos)}`);
}

function spansMatch(a: FloatHistogram['positiveSpans'], b: FloatHistogram['positiveSpans']): boolean {
  const norm = (s: FloatHistogram['positiveSpans']): string => {
    const out: { offset: number; length: number }[] = [];
    let carry = 0;
    for (const x of s) {
      if (x.length === 0) {
        carry += x.offset;
        continue;
      }
      const last = out[out.length - 1];
      if (last !== undefined && x.offset + carry === 0) last.length += x.length;
      else out.push({ offset: x.offset + carry, length: x.length });
      carry = 0;
    }
    return JSON.stringify(out);
  };
  return norm(a) === norm(b);
}

function bucketsMatch(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!almostEqual(a[i]!, b[i]!, epsilon)) return false;
  return true;
}

function histogramsMatch(expRaw: FloatHistogram, curRaw: FloatHistogram, hintSet: boolean): boolean {
  const exp = compactHistogram(expRaw);
  const cur = compactHistogram(curRaw);
  if (exp.schema !== cur.schema || !almostEqual(exp.count, cur.count, epsilon) || !almostEqual(exp.sum, cur.sum, epsilon)) return false;
  if (exp.schema === -53) {
    if (exp.customValues.length !== cur.customValues.length || exp.customValues.some((v, i) => v !== cur.customValues[i])) return false;
  }
  if (exp.zeroThreshold !== cur.zeroThreshold || !almostEqual(exp.zeroCount, cur.zeroCount, epsilon)) return false;
  if (!spansMatch(exp.negativeSpans, cur.negativeSpans) || !bucketsMatch(exp.negativeBuckets, cur.negativeBuckets)) return false;
  if (!spansMatch(exp.positiveSpans, cur.positiveSpans) || !bucketsMatch(exp.positiveBuckets, cur.positiveBuckets)) return false;
  if (hintSet && exp.counterResetHint !== cur.counterResetHint) return false;
  return true;
}

function fmtVal(f: number): string {
  return Number.isNaN(f) ? 'NaN' : f === Infinity ? '+Inf' : f === -Infinity ? '-Inf' : String(f);
}

function labelsOf(cmd: EvalCmd, key: string): string {
  return cmd.expected.get(key)?.labels?.toString() ?? key;
}

function compareVector(cmd: EvalCmd, val: Vector): void {
  if (cmd.expectScalar) throw new EvalFailure(`expected scalar result, but got vector ${vectorString(val)}`);
  const seen = new Set<string>();
  val.forEach((s, pos) => {
    const k = s.metric.key();
    const exp = cmd.expected.get(k);
    if (exp === undefined) {
      throw new EvalFailure(`unexpected metric ${s.metric.toString()} in result, has value ${s.h !== undefined ? histogramTestExpression(s.h) : fmtVal(s.f)}`);
    }
    if (cmd.ordered && exp.pos !== pos + 1) throw new EvalFailure(`expected metric ${s.metric.toString()} at position ${exp.pos} but was at ${pos + 1}`);
    const e0 = exp.vals[0]!;
    if (e0.histogram === undefined && s.h !== undefined) throw new EvalFailure(`expected float value ${fmtVal(e0.value)} for ${s.metric.toString()} but got histogram ${histogramTestExpression(s.h)}`);
    if (e0.histogram !== undefined && s.h === undefined) throw new EvalFailure(`expected histogram ${histogramTestExpression(e0.histogram)} for ${s.metric.toString()} but got float value ${fmtVal(s.f)}`);
    if (e0.histogram !== undefined && !histogramsMatch(e0.histogram, s.h!, e0.counterResetHintSet)) {
      throw new EvalFailure(`expected ${histogramTestExpression(e0.histogram)} for ${s.metric.toString()} but got ${histogramTestExpression(s.h!)}`);
    }
    if (e0.histogram === undefined && !almostEqual(e0.value, s.f, epsilon)) throw new EvalFailure(`expected ${fmtVal(e0.value)} for ${s.metric.toString()} but got ${fmtVal(s.f)}`);
    seen.add(k);
  });
  for (const k of cmd.expected.keys()) if (!seen.has(k)) throw new EvalFailure(`expected metric ${labelsOf(cmd, k)} not found`);
}

function vectorString(v: Vector): string {
  return v.map((s) => `${s.metric.toString()} => ${s.h !== undefined ? histogramTestExpression(s.h) : fmtVal(s.f)}`).join(', ');
}

function seriesString(s: Matrix[number]): string {
  const f = s.floats.points().map((p) => `${fmtVal(p.f)} @[${p.t}]`).join(' ');
  const h = s.histograms.map((p) => `${histogramTestExpression(p.h)} @[${p.t}]`).join(' ');
  return `${s.floats.length} float points [${f}] and ${s.histograms.length} histogram points [${h}]`;
}

function compareMatrix(cmd: EvalCmd, val: Matrix): void {
  if (cmd.ordered) throw new EvalFailure('expected ordered result, but query returned a matrix');
  if (cmd.expectScalar) throw new EvalFailure('expected scalar result, but got matrix');
  for (let i = 1; i < val.length; i++) {
    if (Labels.compare(val[i - 1]!.metric, val[i]!.metric) > 0) throw new EvalFailure('matrix results should always be sorted by labels');
  }
  const seen = new Set<string>();
  for (const s of val) {
    const k = s.metric.key();
    const exp = cmd.expected.get(k);
    if (exp === undefined) throw new EvalFailure(`unexpected metric ${s.metric.toString()} in result, has ${seriesString(s)}`);
    seen.add(k);
    const ef: { t: number; f: number }[] = [];
    const eh: { t: number; h: FloatHistogram; set: boolean }[] = [];
    exp.vals.forEach((e: SequenceValue, i) => {
      const t = cmd.start + i * cmd.step;
      if (t > cmd.end) throw new EvalFailure(`expected ${exp.vals.length} points for ${s.metric.toString()}, but query time range cannot return this many points`);
      if (e.histogram !== undefined) eh.push({ t, h: e.histogram, set: e.counterResetHintSet });
      else if (!e.omitted) ef.push({ t, f: e.value });
    });
    if (ef.length !== s.floats.length || eh.length !== s.histograms.length) {
      throw new EvalFailure(`expected ${ef.length} float points and ${eh.length} histogram points for ${s.metric.toString()}, but got ${seriesString(s)}`);
    }
    ef.forEach((e, i) => {
      const a = { t: s.floats.t(i), f: s.floats.f(i) };
      if (e.t !== a.t) throw new EvalFailure(`expected float value at index ${i} for ${s.metric.toString()} to have timestamp ${e.t}, but it had timestamp ${a.t} (result has ${seriesString(s)})`);
      if (!almostEqual(a.f, e.f, epsilon)) throw new EvalFailure(`expected float value at index ${i} (t=${a.t}) for ${s.metric.toString()} to be ${fmtVal(e.f)}, but got ${fmtVal(a.f)} (result has ${seriesString(s)})`);
    });
    eh.forEach((e, i) => {
      const a = s.histograms[i]!;
      if (e.t !== a.t) throw new EvalFailure(`expected histogram value at index ${i} for ${s.metric.toString()} to have timestamp ${e.t}, but it had timestamp ${a.t}`);
      if (!histogramsMatch(e.h, a.h, e.set)) throw new EvalFailure(`expected histogram value at index ${i} (t=${a.t}) for ${s.metric.toString()} to be ${histogramTestExpression(e.h)}, but got ${histogramTestExpression(a.h)}`);
    });
  }
  for (const k of cmd.expected.keys()) if (!seen.has(k)) throw new EvalFailure(`expected metric ${labelsOf(cmd, k)} not found`);
}

function compareResult(cmd: EvalCmd, v: QueryValue): void {
  switch (v.type) {
    case 'matrix':
      return compareMatrix(cmd, v.value);
    case 'vector':
      return compareVector(cmd, v.value);
    case 'scalar': {
      if (!cmd.expectScalar) throw new EvalFailure(`expected vector or matrix result, but got scalar ${fmtVal(v.value.v)}`);
      const e0 = cmd.expected.get('')!.vals[0]!;
      if (!almostEqual(e0.value, v.value.v, epsilon)) throw new EvalFailure(`expected scalar ${fmtVal(e0.value)} but got ${fmtVal(v.value.v)}`);
      return;
    }
    case 'string':
      if (cmd.expectedString !== v.value.v) throw new EvalFailure(`expected string "${cmd.expectedString ?? ''}" but got "${v.value.v}"`);
  }
}

function isFail(cmd: EvalCmd): boolean {
  return cmd.fail || cmd.expectFail.length > 0;
}

function checkExpectedFailure(cmd: EvalCmd, err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  if (cmd.failMessage !== undefined && cmd.failMessage !== msg) throw new EvalFailure(`expected error ${JSON.stringify(cmd.failMessage)}, but got: ${msg}`);
  if (cmd.failRegexp !== undefined && !cmd.failRegexp.test(msg)) throw new EvalFailure(`expected error matching ${cmd.failRegexp.source}, but got: ${msg}`);
  const ef = cmd.expectFail[0];
  if (ef !== undefined && !matchAnno(ef, msg)) throw new EvalFailure(`expected error matching ${JSON.stringify(ef.message ?? ef.regex?.source)}, but got: ${msg}`);
}

function isQueryError(err: unknown): boolean {
  return err instanceof QueryError || (err instanceof Error && err.name === 'ParseError');
}

/** ScriptRunner runs PromQL test scripts against the engine and an in-memory storage. */
export class ScriptRunner {
  readonly #engine: Engine;
  readonly #storage = new MemoryStorage();

  constructor(engine?: Engine) {
    this.#engine = engine ?? new Engine({ maxSamples: 10000, timeoutMs: 100_000, lookbackDeltaMs: 300_000, parseOptions: ALL_FEATURES, noStepSubqueryIntervalMs: 60_000 });
  }

  /** run executes every command of the script and reports each eval. */
  async run(script: string): Promise<FileOutcome> {
    const cmds = parseScript(script);
    this.#storage.clear();
    const evals: EvalOutcome[] = [];
    for (const c of cmds) {
      if (c.kind === 'clear') this.#storage.clear();
      else if (c.kind === 'load') this.#load(c);
      else {
        try {
          await this.#eval(c);
          evals.push({ line: c.line, expr: c.expr, passed: true });
        } catch (err) {
          const error = err instanceof EvalFailure || isQueryError(err) ? (err as Error).message : `internal error: ${(err as Error)?.stack ?? String(err)}`;
          evals.push({ line: c.line, expr: c.expr, passed: false, error });
        }
      }
    }
    const passed = evals.filter((e) => e.passed).length;
    return { evals, passed, failed: evals.length - passed };
  }

  #load(c: LoadCmd): void {
    for (const s of c.series) {
      s.values.forEach((v, i) => {
        if (v.omitted) return;
        this.#storage.append(s.labels, i * c.gap, v.value, v.histogram);
      });
    }
    if (c.withNHCB) this.#loadNHCB(c);
  }

  #loadNHCB(c: LoadCmd): void {
    interface Temp {
      buckets: Map<number, number>;
      count: number | undefined;
      sum: number | undefined;
    }
    const groups = new Map<string, { labels: Labels; byTs: Map<number, Temp> }>();
    const get = (base: Labels, t: number): Temp => {
      const k = base.key();
      let g = groups.get(k);
      if (g === undefined) {
        g = { labels: base, byTs: new Map() };
        groups.set(k, g);
      }
      let tmp = g.byTs.get(t);
      if (tmp === undefined) {
        tmp = { buckets: new Map(), count: undefined, sum: undefined };
        g.byTs.set(t, tmp);
      }
      return tmp;
    };
    for (const s of c.series) {
      const name = s.labels.get(MetricName);
      let kind: 'bucket' | 'count' | 'sum' | undefined;
      let base = name;
      for (const suffix of ['_bucket', '_count', '_sum'] as const) {
        if (name.endsWith(suffix)) {
          kind = suffix.slice(1) as 'bucket' | 'count' | 'sum';
          base = name.slice(0, -suffix.length);
        }
      }
      if (kind === undefined) continue;
      let le = NaN;
      if (kind === 'bucket') {
        const v = parseGoFloat(s.labels.get('le'));
        if (v === undefined || Number.isNaN(v)) continue;
        le = v;
      }
      const baseLabels = s.labels.builder().set(MetricName, base).del('le').labels();
      s.values.forEach((v, i) => {
        if (v.omitted || v.histogram !== undefined) return;
        const tmp = get(baseLabels, i * c.gap);
        if (kind === 'bucket') tmp.buckets.set(le, v.value);
        else if (kind === 'count') tmp.count = v.value;
        else tmp.sum = v.value;
      });
    }
    for (const g of groups.values()) {
      const ts = [...g.byTs.keys()].sort((a, b) => a - b);
      for (const t of ts) {
        const tmp = g.byTs.get(t)!;
        const les = [...tmp.buckets.keys()].sort((a, b) => a - b);
        if (les.length === 0) continue;
        const h = new FloatHistogram();
        h.schema = -53;
        h.counterResetHint = CounterResetHint.Unknown;
        const bounds = les.filter((l) => l !== Infinity);
        h.customValues = bounds;
        let prev = 0;
        const buckets: number[] = [];
        for (const l of les) {
          const cum = tmp.buckets.get(l)!;
          buckets.push(cum - prev);
          prev = cum;
        }
        if (les[les.length - 1] !== Infinity) buckets.push(0);
        h.positiveSpans = [{ offset: 0, length: buckets.length }];
        h.positiveBuckets = buckets;
        h.count = tmp.count ?? prev;
        h.sum = tmp.sum ?? 0;
        this.#storage.append(g.labels, t, 0, compactHistogram(h));
      }
    }
  }

  async #eval(cmd: EvalCmd): Promise<void> {
    if (cmd.isRange) {
      let res: QueryResult;
      try {
        res = await this.#engine.rangeQuery(this.#storage, cmd.expr, cmd.start, cmd.end, cmd.step).exec();
      } catch (err) {
        if (isFail(cmd) && isQueryError(err)) return checkExpectedFailure(cmd, err);
        throw err;
      }
      if (isFail(cmd)) throw new EvalFailure(`expected error evaluating query ${JSON.stringify(cmd.expr)} but got none`);
      checkAnnotations(cmd, cmd.expr, res);
      compareResult(cmd, res.value);
      return;
    }
    const queries: { expr: string; t: number }[] = [{ expr: cmd.expr, t: cmd.evalTime }];
    let parsed: Expr | undefined;
    try {
      parsed = parseExpr(cmd.expr, ALL_FEATURES);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) {
      const ts = cmd.evalTime;
      const withAt = withAtModifier(parsed, ts);
      if (withAt !== undefined) {
        const s = format(withAt);
        const times = ts === 0 ? [-1000, 0, 1000] : [-10 * ts, 0, Math.trunc(ts / 5), ts, 10 * ts];
        for (const t of times) queries.push({ expr: s, t });
      }
    }
    for (const q of queries) await this.#instant(cmd, q.expr, q.t);
  }

  async #instant(cmd: EvalCmd, expr: string, t: number): Promise<void> {
    let res: QueryResult;
    try {
      res = await this.#engine.instantQuery(this.#storage, expr, t).exec();
    } catch (err) {
      if (isFail(cmd) && isQueryError(err)) return checkExpectedFailure(cmd, err);
      throw err;
    }
    if (isFail(cmd)) throw new EvalFailure(`expected error evaluating query ${JSON.stringify(expr)} but got none`);
    checkAnnotations(cmd, expr, res);
    try {
      compareResult(cmd, res.value);
    } catch (err) {
      if (err instanceof EvalFailure && expr !== cmd.expr) throw new EvalFailure(`${err.message} (query ${expr} at ${t})`);
      throw err;
    }
    if (cmd.excludeFromRangeQuery || /(start|end|range|step)\(\)/.test(expr)) return;
    const rr = await this.#engine.rangeQuery(this.#storage, expr, t - 60_000, t + 60_000, 60_000).exec();
    if (cmd.ordered) return;
    if (rr.value.type !== 'matrix') throw new EvalFailure('range mode did not return a matrix');
    const mat = rr.value.value;
    for (let i = 1; i < mat.length; i++) {
      if (Labels.compare(mat[i - 1]!.metric, mat[i]!.metric) > 0) throw new EvalFailure('matrix results should always be sorted by labels');
    }
    const vec: Vector = [];
    for (const s of mat) {
      const fi = s.floats.indexOf(t);
      if (fi >= 0) vec.push({ metric: s.metric, t, f: s.floats.f(fi), h: undefined, dropName: false });
      const h = s.histograms.find((p) => p.t === t);
      if (h !== undefined) vec.push({ metric: s.metric, t, f: 0, h: h.h, dropName: false });
    }
    try {
      if (res.value.type === 'scalar') compareResult(cmd, { type: 'scalar', value: { t, v: vec[0]?.f ?? NaN } });
      else compareResult(cmd, { type: 'vector', value: vec });
    } catch (err) {
      if (err instanceof EvalFailure) throw new EvalFailure(`range mode: ${err.message} (query ${expr} at ${t})`);
      throw err;
    }
  }
}
