import { Labels } from '../labels/index.js';
import { parseGoFloat, type AlertSnapshot, type RuleGroupSnapshot, type RuleHealth, type RuleSnapshot, type RulesSnapshot } from '../rules/index.js';
import { ApiError, ErrorType } from './api-error.js';

// parsePrometheusRules: the inverse of rulesJson, for reading a Prometheus's /api/v1/rules (the
// sidecar's Rules API proxies it as Thanos's sidecar does).

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const labels = (v: unknown): Labels => {
  if (!isObj(v)) return Labels.EMPTY;
  const rec: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) rec[k] = String(x);
  return Labels.fromRecord(rec);
};

/** parseGoTime reads an RFC 3339 time as Go writes it, keeping sub-millisecond digits; Go's zero time (or none) is undefined. */
export function parseGoTime(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '' || v.startsWith('0001-01-01T00:00:00')) return undefined;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(v);
  if (m === null) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  const whole = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] ?? '';
  return whole + (frac === '' ? 0 : Number(`0.${frac}`) * 1000);
}

function parseAlert(a: Obj): AlertSnapshot | undefined {
  const state = str(a['state']);
  if (state !== 'pending' && state !== 'firing') return undefined;
  return {
    labels: labels(a['labels']),
    annotations: labels(a['annotations']),
    state,
    activeAt: parseGoTime(a['activeAt']) ?? 0,
    value: parseGoFloat(str(a['value'])),
    keepFiringSince: parseGoTime(a['keepFiringSince']),
  };
}

function parseRule(r: Obj): RuleSnapshot | undefined {
  const health = str(r['health']);
  const common = {
    name: str(r['name']),
    query: str(r['query']),
    labels: labels(r['labels']),
    health: (health === 'ok' || health === 'err' ? health : 'unknown') as RuleHealth,
    lastError: str(r['lastError']) === '' ? undefined : str(r['lastError']),
    evaluationTime: num(r['evaluationTime']) * 1000,
    lastEvaluation: parseGoTime(r['lastEvaluation']),
  };
  const type = str(r['type']).toLowerCase();
  if (type === 'recording') return { type: 'recording', ...common };
  if (type !== 'alerting') return undefined;
  const state = str(r['state']);
  const alerts: AlertSnapshot[] = [];
  for (const a of Array.isArray(r['alerts']) ? (r['alerts'] as unknown[]) : []) {
    const x = isObj(a) ? parseAlert(a) : undefined;
    if (x !== undefined) alerts.push(x);
  }
  return {
    type: 'alerting',
    ...common,
    state: state === 'inactive' || state === 'pending' || state === 'firing' ? state : 'unknown',
    duration: num(r['duration']) * 1000,
    keepFiringFor: num(r['keepFiringFor']) * 1000,
    annotations: labels(r['annotations']),
    alerts,
  };
}

/**
 * parsePrometheusRules reads the `data` of a Prometheus /api/v1/rules answer into a snapshot
 * (durations and evaluation times from seconds to ms; unknown rule types are skipped). Throws a
 * bad_data ApiError when the shape is not `{groups: [...]}`.
 */
export function parsePrometheusRules(data: unknown): RulesSnapshot {
  if (!isObj(data) || !Array.isArray(data['groups'])) throw new ApiError(ErrorType.BadData, 'rules answer has no "groups" array');
  const groups: RuleGroupSnapshot[] = [];
  for (const g of data['groups'] as unknown[]) {
    if (!isObj(g)) continue;
    const rules: RuleSnapshot[] = [];
    for (const r of Array.isArray(g['rules']) ? (g['rules'] as unknown[]) : []) {
      const x = isObj(r) ? parseRule(r) : undefined;
      if (x !== undefined) rules.push(x);
    }
    groups.push({
      name: str(g['name']),
      file: str(g['file']),
      interval: num(g['interval']) * 1000,
      limit: num(g['limit']),
      evaluationTime: num(g['evaluationTime']) * 1000,
      lastEvaluation: parseGoTime(g['lastEvaluation']),
      partialResponseStrategy: str(g['partialResponseStrategy']).toLowerCase() === 'warn' ? 'warn' : 'abort',
      rules,
    });
  }
  return { groups };
}
