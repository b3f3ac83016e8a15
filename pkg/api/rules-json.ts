import { createHash } from 'node:crypto';
import type { Labels, Matcher } from '../labels/index.js';
import { goFormatFloat, type AlertSnapshot, type RuleGroupSnapshot, type RuleSnapshot, type RulesSnapshot } from '../rules/index.js';
import { ApiError, ErrorType, invalidParam } from './api-error.js';
import { jsonString } from './json-string.js';
import { parseBool } from './params.js';
import { labelsJson } from './result-json.js';

/** RulesQuery is a parsed /api/v1/rules request (Prometheus 3.x parameters). */
export interface RulesQuery {
  /** `type`: alerting or recording rules only; undefined = both. */
  readonly type: 'alert' | 'record' | undefined;
  readonly ruleNames: readonly string[];
  readonly ruleGroups: readonly string[];
  readonly files: readonly string[];
  /** `match[]` as given (for forwarding) and parsed; a rule matches when its labels match any set. */
  readonly matchStrings: readonly string[];
  readonly matchers: readonly (readonly Matcher[])[];
  readonly excludeAlerts: boolean;
  /** `group_limit`; 0 = no pagination. */
  readonly groupLimit: number;
  readonly groupNextToken: string;
}

/** ALL_RULES is the query of a plain `/api/v1/rules`. */
export const ALL_RULES: RulesQuery = { type: undefined, ruleNames: [], ruleGroups: [], files: [], matchStrings: [], matchers: [], excludeAlerts: false, groupLimit: 0, groupNextToken: '' };

/**
 * parseRulesQuery reads /api/v1/rules parameters from the URL query with Prometheus's error texts.
 * parseSelector parses one `match[]` value (the PromQL parser's metric selector).
 */
export function parseRulesQuery(q: URLSearchParams, parseSelector: (s: string) => Matcher[]): RulesQuery {
  const matchStrings = q.getAll('match[]');
  const matchers: Matcher[][] = [];
  for (const s of matchStrings) {
    let ms: Matcher[];
    try {
      ms = parseSelector(s);
    } catch (err) {
      if ((err as { detail?: unknown }).detail === 'vector selector must contain at least one non-empty matcher') ms = [];
      else throw new ApiError(ErrorType.BadData, (err as Error).message, { cause: err });
    }
    if (ms.every((m) => m.matches(''))) throw new ApiError(ErrorType.BadData, 'match[] must contain at least one non-empty matcher');
    matchers.push(ms);
  }
  const typ = (q.get('type') ?? '').toLowerCase();
  if (typ !== '' && typ !== 'alert' && typ !== 'record') throw invalidParam('type', `not supported value ${JSON.stringify(typ)}`);
  let excludeAlerts = false;
  const ex = (q.get('exclude_alerts') ?? '').toLowerCase();
  if (ex !== '') {
    try {
      excludeAlerts = parseBool(ex);
    } catch (err) {
      throw invalidParam('exclude_alerts', `error converting exclude_alerts: ${(err as Error).message}`);
    }
  }
  const limitText = q.get('group_limit') ?? '';
  const token = q.get('group_next_token') ?? '';
  if (token !== '' && limitText === '') throw invalidParam('group_next_token', 'group_limit needs to be present in order to paginate over the groups');
  let groupLimit = 0;
  if (limitText !== '') {
    if (!/^[+-]?[0-9]+$/.test(limitText)) throw invalidParam('group_limit', `group_limit needs to be a valid number: strconv.ParseInt: parsing ${JSON.stringify(limitText)}: invalid syntax`);
    const n = Number(limitText);
    if (n > 2147483647 || n < -2147483648) throw invalidParam('group_limit', `group_limit needs to be a valid number: strconv.ParseInt: parsing ${JSON.stringify(limitText)}: value out of range`);
    if (n <= 0) throw invalidParam('group_limit', 'group_limit needs to be greater than 0');
    groupLimit = n;
  }
  return {
    type: typ === '' ? undefined : (typ as 'alert' | 'record'),
    ruleNames: q.getAll('rule_name[]'),
    ruleGroups: q.getAll('rule_group[]'),
    files: q.getAll('file[]'),
    matchStrings,
    matchers,
    excludeAlerts,
    groupLimit,
    groupNextToken: groupLimit > 0 ? token : '',
  };
}

/** ruleGroupNextToken is Prometheus's pagination token of a group: hex SHA-256 of `<file>;<name>`. */
export function ruleGroupNextToken(file: string, name: string): string {
  return createHash('sha256').update(`${file};${name}`).digest('hex');
}

/** ruleMatches tells whether a rule's configured labels match any of the matcher sets (none = all). */
export function ruleMatches(labels: Labels, matchers: readonly (readonly Matcher[])[]): boolean {
  if (matchers.length === 0) return true;
  return matchers.some((ms) => ms.every((m) => m.matches(labels.get(m.name))));
}

/** SelectedRules is the outcome of selectRuleGroups. */
export interface SelectedRules {
  readonly groups: RuleGroupSnapshot[];
  /** set when group_limit cut the list. */
  readonly groupNextToken: string | undefined;
}

/**
 * selectRuleGroups applies a RulesQuery as Prometheus 3.x does: groups sorted by file then name,
 * filtered by rule_group[]/file[], rules by match[], rule_name[] and type, groups left without
 * rules dropped, then paginated by group_limit/group_next_token (an unknown token is bad_data).
 */
export function selectRuleGroups(snap: RulesSnapshot, q: RulesQuery): SelectedRules {
  const sorted = [...snap.groups].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rgSet = new Set(q.ruleGroups);
  const fSet = new Set(q.files);
  const rnSet = new Set(q.ruleNames);
  const out: RuleGroupSnapshot[] = [];
  let foundToken = false;
  let next: string | undefined;
  for (const g of sorted) {
    if (q.groupLimit > 0 && q.groupNextToken !== '' && !foundToken) {
      if (q.groupNextToken !== ruleGroupNextToken(g.file, g.name)) continue;
      foundToken = true;
    }
    if (rgSet.size > 0 && !rgSet.has(g.name)) continue;
    if (fSet.size > 0 && !fSet.has(g.file)) continue;
    const rules = g.rules.filter(
      (r) =>
        ruleMatches(r.labels, q.matchers) &&
        (rnSet.size === 0 || rnSet.has(r.name)) &&
        (q.type === undefined || (q.type === 'alert' ? r.type === 'alerting' : r.type === 'recording')),
    );
    if (rules.length === 0) continue;
    if (q.groupLimit > 0 && out.length === q.groupLimit) {
      next = ruleGroupNextToken(g.file, g.name);
      break;
    }
    out.push(rules.length === g.rules.length ? g : { ...g, rules });
  }
  if (q.groupLimit > 0 && q.groupNextToken !== '' && !foundToken) {
    throw invalidParam('group_next_token', `invalid group_next_token '${q.groupNextToken}'. were rule groups changed?`);
  }
  return { groups: out, groupNextToken: next };
}

/**
 * goTimeJson writes a time (ms) as Go's time.Time marshals to JSON in UTC: RFC 3339 with the
 * fraction's trailing zeros trimmed; undefined is Go's zero time `0001-01-01T00:00:00Z`.
 */
export function goTimeJson(ms: number | undefined): string {
  if (ms === undefined) return '"0001-01-01T00:00:00Z"';
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const sub = Math.round((ms - whole) * 1e6); // ns below the millisecond
  let frac = `${iso.slice(20, 23)}${String(sub).padStart(6, '0')}`.replace(/0+$/, '');
  if (frac !== '') frac = `.${frac}`;
  return `"${iso.slice(0, 19)}${frac}Z"`;
}

/**
 * RulesJsonOptions: `partialResponseStrategy` adds Thanos's `"partialResponseStrategy":"ABORT"|"WARN"`
 * to every group and alert, as the Thanos ruler and querier write them (Prometheus has no such field).
 */
export interface RulesJsonOptions {
  readonly partialResponseStrategy?: boolean;
}

const prsJson = (s: 'warn' | 'abort'): string => `,"partialResponseStrategy":"${s === 'warn' ? 'WARN' : 'ABORT'}"`;

/** alertJson writes one alert as Prometheus's API does (labels, annotations, state, activeAt, keepFiringSince, value). */
export function alertJson(a: AlertSnapshot, prs?: 'warn' | 'abort'): string {
  const kfs = a.keepFiringSince === undefined ? '' : `,"keepFiringSince":${goTimeJson(a.keepFiringSince)}`;
  return `{"labels":${labelsJson(a.labels)},"annotations":${labelsJson(a.annotations)},"state":"${a.state}","activeAt":${goTimeJson(a.activeAt)}${kfs},"value":${jsonString(goFormatFloat(a.value, 'e', -1))}${prs === undefined ? '' : prsJson(prs)}}`;
}

const seconds = (ms: number): string => JSON.stringify(ms / 1000);

/** ruleJson writes one rule; excludeAlerts makes `alerts` null; prs adds the strategy to alerts. */
export function ruleJson(r: RuleSnapshot, excludeAlerts = false, prs?: 'warn' | 'abort'): string {
  const lastError = r.lastError === undefined || r.lastError === '' ? '' : `,"lastError":${jsonString(r.lastError)}`;
  const tail = `"health":${jsonString(r.health)}${lastError},"evaluationTime":${seconds(r.evaluationTime)},"lastEvaluation":${goTimeJson(r.lastEvaluation)},"type":"${r.type}"}`;
  if (r.type === 'recording') return `{"name":${jsonString(r.name)},"query":${jsonString(r.query)},"labels":${labelsJson(r.labels)},${tail}`;
  const alerts = excludeAlerts ? 'null' : `[${r.alerts.map((a) => alertJson(a, prs)).join(',')}]`;
  return (
    `{"state":"${r.state}","name":${jsonString(r.name)},"query":${jsonString(r.query)},"duration":${seconds(r.duration)},"keepFiringFor":${seconds(r.keepFiringFor)},` +
    `"labels":${labelsJson(r.labels)},"annotations":${labelsJson(r.annotations)},"alerts":${alerts},${tail}`
  );
}

/** ruleGroupJson writes one group (name, file, rules, interval, limit, evaluationTime, lastEvaluation). */
export function ruleGroupJson(g: RuleGroupSnapshot, excludeAlerts = false, opts: RulesJsonOptions = {}): string {
  const prs = opts.partialResponseStrategy === true ? g.partialResponseStrategy : undefined;
  return (
    `{"name":${jsonString(g.name)},"file":${jsonString(g.file)},"rules":[${g.rules.map((r) => ruleJson(r, excludeAlerts, prs)).join(',')}],` +
    `"interval":${seconds(g.interval)},"limit":${g.limit},"evaluationTime":${seconds(g.evaluationTime)},"lastEvaluation":${goTimeJson(g.lastEvaluation)}${prs === undefined ? '' : prsJson(prs)}}`
  );
}

/** rulesJson is the `data` of /api/v1/rules for a snapshot and query (throws ApiError for a bad token). */
export function rulesJson(snap: RulesSnapshot, q: RulesQuery = ALL_RULES, opts: RulesJsonOptions = {}): string {
  const sel = selectRuleGroups(snap, q);
  const next = sel.groupNextToken === undefined ? '' : `,"groupNextToken":${jsonString(sel.groupNextToken)}`;
  return `{"groups":[${sel.groups.map((g) => ruleGroupJson(g, q.excludeAlerts, opts)).join(',')}]${next}}`;
}

/** alertsJson is the `data` of /api/v1/alerts: every active alert of every alerting rule, groups sorted as in /rules. */
export function alertsJson(snap: RulesSnapshot, opts: RulesJsonOptions = {}): string {
  const parts: string[] = [];
  for (const g of selectRuleGroups(snap, ALL_RULES).groups) {
    const prs = opts.partialResponseStrategy === true ? g.partialResponseStrategy : undefined;
    for (const r of g.rules) if (r.type === 'alerting') for (const a of r.alerts) parts.push(alertJson(a, prs));
  }
  return `{"alerts":[${parts.join(',')}]}`;
}
