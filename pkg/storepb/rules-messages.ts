import type { Labels } from '../labels/index.js';
import type { PartialResponseStrategy } from './messages.js';

// Messages of Thanos's Rules API (thanos.Rules, proto/rules/rulespb/rpc.proto). Durations are
// seconds (doubles, as on the wire); timestamps are milliseconds since the epoch (fractional for
// sub-millisecond precision), undefined for Go's zero time / an absent timestamp.

/** RulesRequestType is thanos.RulesRequest.Type. */
export const RulesRequestType = { ALL: 0, ALERT: 1, RECORD: 2 } as const;
export type RulesRequestType = (typeof RulesRequestType)[keyof typeof RulesRequestType];

/** AlertStateProto is thanos.AlertState (Prometheus's AlertState 1:1). */
export const AlertStateProto = { UNKNOWN: 0, INACTIVE: 1, PENDING: 2, FIRING: 3 } as const;
export type AlertStateProto = (typeof AlertStateProto)[keyof typeof AlertStateProto];

/** RulesRequest is thanos.RulesRequest. */
export interface RulesRequest {
  readonly type?: RulesRequestType;
  readonly partialResponseStrategy?: PartialResponseStrategy;
  readonly matcherString?: readonly string[];
  readonly ruleName?: readonly string[];
  readonly ruleGroup?: readonly string[];
  readonly file?: readonly string[];
}

/** RulesResponse is thanos.RulesResponse: a group or a warning. */
export type RulesResponse = { readonly group: RuleGroupProto; readonly warning?: undefined } | { readonly warning: string; readonly group?: undefined };

/** RuleGroupProto is thanos.RuleGroup. */
export interface RuleGroupProto {
  readonly name: string;
  readonly file: string;
  readonly rules: readonly RuleProto[];
  /** seconds */
  readonly interval: number;
  readonly evaluationDurationSeconds: number;
  readonly lastEvaluation: number | undefined;
  readonly limit: number;
  readonly partialResponseStrategy: PartialResponseStrategy;
}

/** RuleProto is thanos.Rule: the oneof recording | alert. */
export type RuleProto = RecordingRuleProto | AlertingRuleProto;

/** RecordingRuleProto is thanos.RecordingRule. */
export interface RecordingRuleProto {
  readonly type: 'recording';
  readonly name: string;
  readonly query: string;
  readonly labels: Labels;
  readonly health: string;
  readonly lastError: string;
  readonly evaluationDurationSeconds: number;
  readonly lastEvaluation: number | undefined;
}

/** AlertingRuleProto is thanos.Alert (an alerting rule). */
export interface AlertingRuleProto {
  readonly type: 'alerting';
  readonly state: AlertStateProto;
  readonly name: string;
  readonly query: string;
  readonly durationSeconds: number;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly alerts: readonly AlertInstanceProto[];
  readonly health: string;
  readonly lastError: string;
  readonly evaluationDurationSeconds: number;
  readonly lastEvaluation: number | undefined;
  readonly keepFiringForSeconds: number;
}

/** AlertInstanceProto is thanos.AlertInstance. */
export interface AlertInstanceProto {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly state: AlertStateProto;
  readonly activeAt: number | undefined;
  /** Go's strconv.FormatFloat(v, 'e', -1, 64) */
  readonly value: string;
  readonly partialResponseStrategy: PartialResponseStrategy;
}
