import { Labels } from '../labels/index.js';
import { format, parseExpr } from '../promql/index.js';
import { AlertingRule } from './alerting-rule.js';
import type { RuleGroup } from './rule-group.js';
import type { RuleHealth } from './rule-types.js';

/**
 * RulesSnapshot is a neutral, immutable picture of rule state: what Prometheus's /api/v1/rules and
 * /api/v1/alerts and Thanos's Rules gRPC API report. Times are ms since the epoch (undefined =
 * never), durations ms; evaluation times are wall-clock ms (fractional).
 */
export interface RulesSnapshot {
  readonly groups: readonly RuleGroupSnapshot[];
  /** warnings gathered with the snapshot (e.g. partial responses of a querier). */
  readonly warnings?: readonly string[];
}

/** RuleGroupSnapshot is one rule group. */
export interface RuleGroupSnapshot {
  readonly name: string;
  readonly file: string;
  /** ms */
  readonly interval: number;
  readonly limit: number;
  /** ms of wall-clock time the last evaluation took */
  readonly evaluationTime: number;
  readonly lastEvaluation: number | undefined;
  /** Thanos's per-group partial response strategy. */
  readonly partialResponseStrategy: 'warn' | 'abort';
  readonly rules: readonly RuleSnapshot[];
}

/** RuleSnapshot is a recording or an alerting rule. */
export type RuleSnapshot = RecordingRuleSnapshot | AlertingRuleSnapshot;

interface RuleSnapshotBase {
  readonly name: string;
  /** the expression as printed by the PromQL printer (normalised), as Prometheus reports it. */
  readonly query: string;
  /** configured labels (templates unexpanded for alerting rules). */
  readonly labels: Labels;
  readonly health: RuleHealth;
  /** the last evaluation error, if the last evaluation failed. */
  readonly lastError: string | undefined;
  readonly evaluationTime: number;
  readonly lastEvaluation: number | undefined;
}

/** RecordingRuleSnapshot is a recording rule. */
export interface RecordingRuleSnapshot extends RuleSnapshotBase {
  readonly type: 'recording';
}

/** RuleAlertState is an alerting rule's state: the highest of its alerts; `unknown` before the first evaluation. */
export type RuleAlertState = 'unknown' | 'inactive' | 'pending' | 'firing';

/** AlertingRuleSnapshot is an alerting rule with its active alerts. */
export interface AlertingRuleSnapshot extends RuleSnapshotBase {
  readonly type: 'alerting';
  readonly state: RuleAlertState;
  /** `for`, ms */
  readonly duration: number;
  /** `keep_firing_for`, ms */
  readonly keepFiringFor: number;
  /** configured annotations (unexpanded templates). */
  readonly annotations: Labels;
  /** active (pending or firing, not resolved) alerts. */
  readonly alerts: readonly AlertSnapshot[];
}

/** AlertSnapshot is one active alert. */
export interface AlertSnapshot {
  /** the alert's own labels (no external labels unless the producer adds them). */
  readonly labels: Labels;
  /** expanded annotations. */
  readonly annotations: Labels;
  readonly state: 'pending' | 'firing';
  readonly activeAt: number;
  readonly value: number;
  /** set while a firing alert is held by keep_firing_for. */
  readonly keepFiringSince: number | undefined;
}

/** printRuleExpr prints an expression as Prometheus reports it; the text itself when it does not parse. */
export function printRuleExpr(expr: string): string {
  try {
    return format(parseExpr(expr));
  } catch {
    return expr;
  }
}

/**
 * snapshotRuleGroups captures the state of groups (in the given order); printExpr prints a rule's
 * expression (default: the PromQL printer, as Prometheus's API shows `rule.Query().String()`).
 */
export function snapshotRuleGroups(groups: readonly RuleGroup[], printExpr: (expr: string) => string = printRuleExpr): RulesSnapshot {
  return {
    groups: groups.map((g) => ({
      name: g.name,
      file: g.file,
      interval: g.options.interval,
      limit: g.options.limit,
      evaluationTime: g.evaluationTime,
      lastEvaluation: g.lastEvaluation,
      partialResponseStrategy: g.options.partialResponseStrategy ?? 'abort',
      rules: g.rules.map((r): RuleSnapshot => {
        const base = {
          name: r.name,
          query: printExpr(r.expr),
          labels: Labels.fromRecord(r.labels),
          health: r.health,
          lastError: r.lastError?.message,
          evaluationTime: r.evaluationTime,
          lastEvaluation: r.lastEvaluation,
        };
        if (!(r instanceof AlertingRule)) return { type: 'recording', ...base };
        const alerts: AlertSnapshot[] = [];
        for (const a of r.active.values()) {
          if (a.state === 'inactive' || a.resolvedAt !== 0) continue;
          alerts.push({
            labels: a.labels,
            annotations: Labels.fromRecord(a.annotations),
            state: a.state,
            activeAt: a.activeAt,
            value: a.value,
            keepFiringSince: a.keepFiringSince === 0 ? undefined : a.keepFiringSince,
          });
        }
        return {
          type: 'alerting',
          ...base,
          state: r.lastEvaluation === undefined ? 'unknown' : r.state(),
          duration: r.holdDuration,
          keepFiringFor: r.keepFiringFor,
          annotations: Labels.fromRecord(r.annotations),
          alerts,
        };
      }),
    })),
  };
}
