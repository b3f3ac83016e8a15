import { Labels } from '../labels/index.js';
import type { Engine } from '../promql/index.js';
import type { Queryable } from '../storage/index.js';
import { RuleEvalError } from './recording-rule.js';
import type { RuleQueryFunc } from './rule-types.js';
import { TemplateSample } from './template-exec.js';

/**
 * engineQueryFunc runs rule expressions as instant queries on a PromQL engine (Prometheus's
 * EngineQueryFunc): a vector as is, a scalar as one sample without labels, anything else an error.
 * Native histogram samples carry h (recording rules store them as histograms).
 */
export function engineQueryFunc(engine: Engine, queryable: Queryable): RuleQueryFunc {
  return async (expr, t) => {
    const res = await engine.instantQuery(queryable, expr, t).exec();
    const v = res.value;
    if (v.type === 'vector') return v.value.map((s) => (s.h === undefined ? { labels: s.metric, t: s.t, v: s.f } : { labels: s.metric, t: s.t, v: 0, h: s.h }));
    if (v.type === 'scalar') return [{ labels: Labels.EMPTY, t: v.value.t, v: v.value.v }];
    throw new RuleEvalError('rule result is not a vector or scalar');
  };
}

/** templateQueryFunc adapts a rule query function at time t to the templates' `query`. */
export function templateQueryFunc(query: RuleQueryFunc, t: number): (expr: string) => Promise<TemplateSample[]> {
  return async (expr) => (await query(expr, t)).map((s) => new TemplateSample(new Map(s.labels.toArray().map((l) => [l.name, l.value] as const)), s.v));
}
