import { ALL_RULES, ApiError, ErrorType, type RulesQuery } from '../api/index.js';
import { Labels, type Matcher } from '../labels/index.js';
import { parseMetricSelector } from '../promql/index.js';
import type { AlertingRuleSnapshot, RecordingRuleSnapshot, RuleGroupSnapshot, RuleSnapshot, RulesSnapshot } from '../rules/index.js';
import { GrpcCode, StoreError, protoGroupToSnapshot, rulesQueryType, rulesRequestType, snapshotGroupToProto, type RulesServer, type StoreCallOptions } from '../store/index.js';
import { PartialResponseStrategy, type RuleGroupProto, type RulesRequest } from '../storepb/index.js';

/** RulesEndpoint is an endpoint that serves Thanos's Rules API. */
export interface RulesEndpoint {
  readonly name: string;
  rules?(req: RulesRequest, opts?: StoreCallOptions): Promise<{ groups: RuleGroupProto[]; warnings: string[] }>;
}

/** RulesGathererOptions configure gatherRules. */
export interface RulesGathererOptions {
  /** the endpoints that advertise the Rules API (EndpointSet.rulesClients). */
  readonly endpoints: () => readonly RulesEndpoint[];
  /** --query.replica-label: removed from rule labels before identical rules of HA rulers are merged. */
  readonly replicaLabels: readonly string[];
  /** --query.partial-response: a failing endpoint becomes a warning instead of failing the request. */
  readonly partialResponse: boolean;
  /** timeoutMs bounds each endpoint's call. */
  readonly timeoutMs?: number;
}

const stateRank = { unknown: 0, inactive: 1, pending: 2, firing: 3 } as const;

/**
 * compareRules orders rules as Thanos's querier does before deduplication: alerting before
 * recording, then name, labels, query and (alerting) `for`. 0 means "the same rule".
 */
export function compareRules(a: RuleSnapshot, b: RuleSnapshot): number {
  if (a.type !== b.type) return a.type === 'alerting' ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  const l = Labels.compare(a.labels, b.labels);
  if (l !== 0) return l;
  if (a.query !== b.query) return a.query < b.query ? -1 : 1;
  if (a.type === 'alerting' && b.type === 'alerting' && a.duration !== b.duration) return a.duration < b.duration ? -1 : 1;
  return 0;
}

/** preferred picks between two copies of the same rule: the more critical alert state, then the later evaluation, then the longer one. */
function preferred(a: RuleSnapshot, b: RuleSnapshot): RuleSnapshot {
  if (a.type === 'alerting' && b.type === 'alerting') {
    const d = stateRank[(b as AlertingRuleSnapshot).state] - stateRank[(a as AlertingRuleSnapshot).state];
    if (d !== 0) return d > 0 ? b : a;
  }
  const d = (b.lastEvaluation ?? -Infinity) - (a.lastEvaluation ?? -Infinity);
  return d > 0 || (d === 0 && b.evaluationTime > a.evaluationTime) ? b : a;
}

/** laterGroup reports whether copy a of a group was evaluated after b (then took longer, as a tie-break). */
function laterGroup(a: RuleGroupSnapshot, b: RuleGroupSnapshot): boolean {
  const d = (a.lastEvaluation ?? -Infinity) - (b.lastEvaluation ?? -Infinity);
  return d > 0 || (d === 0 && a.evaluationTime > b.evaluationTime);
}

/**
 * dedupRuleGroups merges groups with the same file and name (from several rulers) and removes
 * duplicate rules of HA replicas as Thanos's querier does: replica labels are dropped from rule
 * labels, rules sorted by compareRules, and of identical rules the most critical / most recently
 * evaluated one is kept. Groups come out sorted by file, then name; a merged group's own fields
 * (interval, last evaluation, ...) are those of its most recently evaluated copy.
 */
export function dedupRuleGroups(groups: readonly RuleGroupSnapshot[], replicaLabels: readonly string[]): RuleGroupSnapshot[] {
  const byKey = new Map<string, { first: RuleGroupSnapshot; rules: RuleSnapshot[] }>();
  for (const g of groups) {
    const k = `${g.file};${g.name}`;
    const e = byKey.get(k);
    if (e === undefined) byKey.set(k, { first: g, rules: [...g.rules] });
    else {
      e.rules.push(...g.rules);
      // The group's own fields from the copy evaluated last, not from whichever endpoint answered
      // first (that order varies from request to request).
      if (laterGroup(g, e.first)) e.first = g;
    }
  }
  const keys = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => {
    const { first, rules } = byKey.get(k)!;
    const stripped = rules.map((r): RuleSnapshot => {
      if (replicaLabels.length === 0) return r;
      const labels = r.labels.without(replicaLabels);
      return r.type === 'alerting' ? ({ ...r, labels } satisfies AlertingRuleSnapshot) : ({ ...r, labels } satisfies RecordingRuleSnapshot);
    });
    stripped.sort(compareRules);
    const out: RuleSnapshot[] = [];
    for (const r of stripped) {
      const last = out[out.length - 1];
      if (last !== undefined && compareRules(last, r) === 0) out[out.length - 1] = preferred(last, r);
      else out.push(r);
    }
    return { ...first, rules: out };
  });
}

/**
 * gatherRules asks every rules endpoint for its groups (Thanos's Rules API, with the request's
 * type, names, groups, files and matchers forwarded), then merges and deduplicates them. A failing
 * endpoint fails the request (errorInternal `error retrieving rules: …`) unless partial responses
 * are enabled, in which case it becomes a warning.
 */
export async function gatherRules(opts: RulesGathererOptions, q: RulesQuery, signal: AbortSignal): Promise<RulesSnapshot> {
  const req: RulesRequest = {
    type: rulesRequestType(q.type),
    partialResponseStrategy: opts.partialResponse ? PartialResponseStrategy.WARN : PartialResponseStrategy.ABORT,
    matcherString: q.matchStrings,
    ruleName: q.ruleNames,
    ruleGroup: q.ruleGroups,
    file: q.files,
  };
  const warnings: string[] = [];
  const groups: RuleGroupSnapshot[] = [];
  const callOpts: StoreCallOptions = { signal, ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}) };
  await Promise.all(
    opts.endpoints().map(async (e) => {
      if (e.rules === undefined) return;
      try {
        const res = await e.rules(req, callOpts);
        for (const g of res.groups) groups.push(protoGroupToSnapshot(g));
        warnings.push(...res.warnings);
      } catch (err) {
        const msg = `fetching rules from rules client ${e.name}: ${(err as Error).message}`;
        if (!opts.partialResponse) throw new ApiError(ErrorType.Internal, `error retrieving rules: ${msg}`, { cause: err });
        warnings.push(msg);
      }
    }),
  );
  return { groups: dedupRuleGroups(groups, opts.replicaLabels), warnings };
}

/**
 * gatheringRulesServer serves thanos.Rules from the querier's own rules endpoints (as a Thanos
 * querier does, so queriers stack): the request's filters and partial response strategy are passed
 * on; groups are merged and deduplicated as for the HTTP API; a bad matcher is InvalidArgument.
 */
export function gatheringRulesServer(opts: Omit<RulesGathererOptions, 'partialResponse'>): RulesServer {
  return {
    async rules(req, signal) {
      const matchers: Matcher[][] = [];
      for (const s of req.matcherString) {
        try {
          matchers.push(parseMetricSelector(s));
        } catch (err) {
          throw new StoreError(GrpcCode.InvalidArgument, `parse rules matcher ${JSON.stringify(s)}: ${(err as Error).message}`, { cause: err });
        }
      }
      const q: RulesQuery = {
        ...ALL_RULES,
        type: rulesQueryType(req.type),
        ruleNames: req.ruleName,
        ruleGroups: req.ruleGroup,
        files: req.file,
        matchStrings: req.matcherString,
        matchers,
      };
      const snap = await gatherRules({ ...opts, partialResponse: req.partialResponseStrategy === PartialResponseStrategy.WARN }, q, signal);
      return [...snap.groups.map((g) => ({ group: snapshotGroupToProto(g) })), ...(snap.warnings ?? []).map((warning) => ({ warning }))];
    },
  };
}
