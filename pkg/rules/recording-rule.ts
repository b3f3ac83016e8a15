import { Labels, MetricName } from '../labels/index.js';
import { TesseraError } from '../errors/index.js';
import type { RuleHealth, RuleQueryFunc, RuleSample } from './rule-types.js';

/** RuleEvalError is a rule evaluation that produced no result (query error, limit, duplicate series). */
export class RuleEvalError extends TesseraError {
  constructor(message: string, cause?: unknown) {
    super('TESSERA_RULE_EVAL', message, { cause });
  }
}

/** RecordingRule evaluates an expression and stores its result under a new metric name. */
export class RecordingRule {
  health: RuleHealth = 'unknown';
  lastError: Error | undefined;
  lastEvaluation: number | undefined;
  /** wall-clock duration of the last evaluation (ms, fractional). */
  evaluationTime = 0;

  constructor(
    readonly name: string,
    readonly expr: string,
    /** literal labels (recording-rule labels are not templated). */
    readonly labels: Readonly<Record<string, string>>,
  ) {}

  /** eval runs the query at ts - queryOffset and renames its samples; limit 0 = unlimited. */
  async eval(ts: number, queryOffset: number, query: RuleQueryFunc, limit: number): Promise<RuleSample[]> {
    const qt = ts - queryOffset;
    let res: RuleSample[];
    try {
      res = await query(this.expr, qt);
    } catch (err) {
      throw new RuleEvalError((err as Error).message, err);
    }
    const out: RuleSample[] = [];
    const seen = new Set<string>();
    for (const s of res) {
      const b = s.labels.builder().set(MetricName, this.name);
      for (const [k, v] of Object.entries(this.labels)) b.set(k, v);
      const labels: Labels = b.labels();
      const key = labels.key();
      if (seen.has(key)) throw new RuleEvalError('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      out.push(s.h === undefined ? { labels, t: qt, v: s.v } : { labels, t: qt, v: s.v, h: s.h });
    }
    if (limit > 0 && out.length > limit) throw new RuleEvalError(`exceeded limit of ${limit} with ${out.length} series`);
    return out;
  }
}
