import { ALL_FEATURES, inspect, parseExpr, type Expr } from '../promql/index.js';

/** ShardAnalysis says how a query can be sharded by series: by or without these labels. */
export interface ShardAnalysis {
  readonly by: boolean;
  readonly labels: readonly string[];
}

/** Functions whose answer depends on series of every shard at once (or on no series at all). */
const unshardableFuncs = new Set(['absent', 'absent_over_time', 'scalar', 'info']);
/** Functions that group classic histogram buckets by everything but `le`. */
const bucketFuncs = new Set(['histogram_quantile', 'histogram_fraction']);

class Scope {
  labels: string[] | undefined;
  by = false;

  /**
   * narrow keeps the sharding a function of the labels every grouping so far keeps (Thanos's
   * scopeToLabels): by ∩ by, without ∪ without, by \ without.
   */
  narrow(labels: readonly string[], by: boolean): void {
    if (this.labels === undefined) {
      this.labels = [...labels];
      this.by = by;
    } else if (this.by && by) {
      const s = new Set(labels);
      this.labels = this.labels.filter((l) => s.has(l));
    } else if (!this.by && !by) {
      this.labels = [...new Set([...this.labels, ...labels])];
    } else {
      const byLabels = this.by ? this.labels : labels;
      const without = new Set(this.by ? labels : this.labels);
      this.labels = byLabels.filter((l) => !without.has(l));
      this.by = true;
    }
  }
}

function unwrap(e: Expr): Expr {
  let x = e;
  while (x.kind === 'ParenExpr' || x.kind === 'StepInvariantExpr') x = x.expr;
  return x;
}

/**
 * analyzeShardable decides whether a query can be answered as the union of its answers over N
 * disjoint sets of series (vertical sharding), following Thanos's querysharding analyzer: every
 * aggregation, binary operation between vectors and classic-histogram function must group by
 * labels that decide the shard, so each output series depends on the series of one shard only.
 * It returns undefined when the query is not shardable: no grouping at all (`sum(x)`, a plain
 * selector), `absent`, `absent_over_time`, `scalar`, `info`, or labels that cancel out.
 *
 * Differences from Thanos, each coarser (always safe): `without` groupings also drop `__name__`
 * (an aggregation removes the metric name, so `sum without (instance) ({__name__=~"a|b"})` puts
 * a and b in one group); `histogram_fraction` is treated like `histogram_quantile`.
 */
export function analyzeShardable(query: string): ShardAnalysis | undefined {
  let expr: Expr;
  try {
    expr = parseExpr(query, ALL_FEATURES);
  } catch {
    return undefined;
  }
  const scope = new Scope();
  const dynamic: string[] = [];
  let shardable = true;
  inspect(expr, (n) => {
    if (!shardable) return false;
    switch (n.kind) {
      case 'Call': {
        const name = n.func.name;
        if (unshardableFuncs.has(name)) {
          shardable = false;
          return false;
        }
        if (name === 'label_replace' || name === 'label_join') {
          const dst = n.args[1] === undefined ? undefined : unwrap(n.args[1]);
          if (dst === undefined || dst.kind !== 'StringLiteral') {
            shardable = false;
            return false;
          }
          dynamic.push(dst.val);
        } else if (bucketFuncs.has(name)) {
          scope.narrow(['le'], false);
        }
        return true;
      }
      case 'BinaryExpr': {
        const m = n.matching;
        if (m !== null) scope.narrow(m.on ? m.matchingLabels : [...m.matchingLabels, '__name__'], m.on);
        return true;
      }
      case 'AggregateExpr':
        scope.narrow(n.without ? [...n.grouping, '__name__'] : n.grouping, !n.without);
        return true;
      default:
        return true;
    }
  });
  if (!shardable || scope.labels === undefined) return undefined;
  if (dynamic.length > 0) scope.narrow(dynamic, false);
  // `by ()` leaves nothing to shard by; `without` always leaves the other labels.
  if (scope.by && scope.labels.length === 0) return undefined;
  if (!scope.by && scope.labels.length === 0) return undefined;
  return { by: scope.by, labels: scope.labels };
}
