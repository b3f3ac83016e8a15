import { Labels } from '../labels/index.js';
import { goFormatFloat, parseGoFloat, type AlertSnapshot, type RuleGroupSnapshot, type RuleHealth, type RuleSnapshot, type RulesSnapshot } from '../rules/index.js';
import { AlertStateProto, PartialResponseStrategy, RulesRequestType, type AlertInstanceProto, type RuleGroupProto, type RuleProto, type RulesRequest, type RulesResponse } from '../storepb/index.js';

// Conversions between the neutral RulesSnapshot (pkg/rules) and Thanos's Rules API messages.

const ruleStateProto = { unknown: AlertStateProto.UNKNOWN, inactive: AlertStateProto.INACTIVE, pending: AlertStateProto.PENDING, firing: AlertStateProto.FIRING } as const;
const ruleStateName = ['unknown', 'inactive', 'pending', 'firing'] as const;

function strategy(s: 'warn' | 'abort'): PartialResponseStrategy {
  return s === 'warn' ? PartialResponseStrategy.WARN : PartialResponseStrategy.ABORT;
}

/** rulesRequestType is the thanos.RulesRequest type of an /api/v1/rules `type` (undefined = both). */
export function rulesRequestType(t: 'alert' | 'record' | undefined): RulesRequestType {
  return t === 'alert' ? RulesRequestType.ALERT : t === 'record' ? RulesRequestType.RECORD : RulesRequestType.ALL;
}

/** rulesQueryType is the /api/v1/rules `type` of a thanos.RulesRequest type (undefined = both). */
export function rulesQueryType(t: RulesRequestType): 'alert' | 'record' | undefined {
  return t === RulesRequestType.ALERT ? 'alert' : t === RulesRequestType.RECORD ? 'record' : undefined;
}

/**
 * snapshotGroupToProto converts one group as a Thanos ruler sends it: external labels extend
 * (and win over) each rule's labels; alert instances carry the group's partial response strategy.
 */
export function snapshotGroupToProto(g: RuleGroupSnapshot, externalLabels: Labels = Labels.EMPTY): RuleGroupProto {
  const prs = strategy(g.partialResponseStrategy);
  const ext = (ls: Labels): Labels => {
    if (externalLabels.isEmpty()) return ls;
    const b = ls.builder();
    externalLabels.forEach((n, v) => b.set(n, v));
    return b.labels();
  };
  return {
    name: g.name,
    file: g.file,
    interval: g.interval / 1000,
    evaluationDurationSeconds: g.evaluationTime / 1000,
    lastEvaluation: g.lastEvaluation,
    limit: g.limit,
    partialResponseStrategy: prs,
    rules: g.rules.map((r): RuleProto => {
      const common = { name: r.name, query: r.query, labels: ext(r.labels), health: r.health, lastError: r.lastError ?? '', evaluationDurationSeconds: r.evaluationTime / 1000, lastEvaluation: r.lastEvaluation };
      if (r.type === 'recording') return { type: 'recording', ...common };
      return {
        type: 'alerting',
        ...common,
        state: ruleStateProto[r.state],
        durationSeconds: r.duration / 1000,
        keepFiringForSeconds: r.keepFiringFor / 1000,
        annotations: r.annotations,
        alerts: r.alerts.map(
          (a): AlertInstanceProto => ({
            labels: a.labels,
            annotations: a.annotations,
            state: ruleStateProto[a.state],
            activeAt: a.activeAt,
            value: goFormatFloat(a.value, 'e', -1),
            partialResponseStrategy: prs,
          }),
        ),
      };
    }),
  };
}

/** protoGroupToSnapshot converts a received thanos.RuleGroup back to a snapshot group. */
export function protoGroupToSnapshot(g: RuleGroupProto): RuleGroupSnapshot {
  return {
    name: g.name,
    file: g.file,
    interval: g.interval * 1000,
    limit: g.limit,
    evaluationTime: g.evaluationDurationSeconds * 1000,
    lastEvaluation: g.lastEvaluation,
    partialResponseStrategy: g.partialResponseStrategy === PartialResponseStrategy.WARN ? 'warn' : 'abort',
    rules: g.rules.map((r): RuleSnapshot => {
      const common = {
        name: r.name,
        query: r.query,
        labels: r.labels,
        health: (r.health === 'ok' || r.health === 'err' ? r.health : 'unknown') as RuleHealth,
        lastError: r.lastError === '' ? undefined : r.lastError,
        evaluationTime: r.evaluationDurationSeconds * 1000,
        lastEvaluation: r.lastEvaluation,
      };
      if (r.type === 'recording') return { type: 'recording', ...common };
      const alerts: AlertSnapshot[] = [];
      for (const a of r.alerts) {
        if (a.state !== AlertStateProto.PENDING && a.state !== AlertStateProto.FIRING) continue;
        alerts.push({
          labels: a.labels,
          annotations: a.annotations,
          state: a.state === AlertStateProto.FIRING ? 'firing' : 'pending',
          activeAt: a.activeAt ?? 0,
          value: parseGoFloat(a.value),
          keepFiringSince: undefined,
        });
      }
      return {
        type: 'alerting',
        ...common,
        state: ruleStateName[r.state] ?? 'unknown',
        duration: r.durationSeconds * 1000,
        keepFiringFor: r.keepFiringForSeconds * 1000,
        annotations: r.annotations,
        alerts,
      };
    }),
  };
}

/** RulesServer is the server side of thanos.Rules: the frames (groups, warnings) to stream for a request. */
export interface RulesServer {
  rules(req: Required<RulesRequest>, signal: AbortSignal): Promise<readonly RulesResponse[]>;
}

/** SnapshotRulesServerOptions configure snapshotRulesServer. */
export interface SnapshotRulesServerOptions {
  /** the component's external labels, added to every rule's labels (as a Thanos ruler does). */
  readonly externalLabels?: Labels;
}

/**
 * snapshotRulesServer serves thanos.Rules from a snapshot function (e.g. `() => manager.snapshot()`)
 * as the Thanos ruler does: every group, rules filtered by the request's type only (groups left
 * empty are still sent; the caller filters names, files and matchers), external labels on rules.
 */
export function snapshotRulesServer(snapshot: () => RulesSnapshot | Promise<RulesSnapshot>, opts: SnapshotRulesServerOptions = {}): RulesServer {
  return {
    async rules(req) {
      const snap = await snapshot();
      const out: RulesResponse[] = [];
      for (const g of snap.groups) {
        const rules = req.type === RulesRequestType.ALL ? g.rules : g.rules.filter((r) => (req.type === RulesRequestType.ALERT ? r.type === 'alerting' : r.type === 'recording'));
        out.push({ group: snapshotGroupToProto(rules === g.rules ? g : { ...g, rules }, opts.externalLabels) });
      }
      for (const w of snap.warnings ?? []) out.push({ warning: w });
      return out;
    },
  };
}

/** protoToRulesSnapshot turns received groups and warnings into a snapshot. */
export function protoToRulesSnapshot(groups: readonly RuleGroupProto[], warnings: readonly string[] = []): RulesSnapshot {
  return { groups: groups.map(protoGroupToSnapshot), warnings };
}
