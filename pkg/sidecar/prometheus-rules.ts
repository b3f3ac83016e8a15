import { parsePrometheusRules } from '../api/index.js';
import type { Labels } from '../labels/index.js';
import { rulesQueryType, snapshotRulesServer, type RulesServer } from '../store/index.js';
import type { PrometheusClient } from './prometheus-client.js';

/**
 * prometheusRulesServer serves thanos.Rules from Prometheus's /api/v1/rules, as Thanos's sidecar
 * does: the request's type, rule names, groups, files and matchers are passed on as `type`,
 * `rule_name[]`, `rule_group[]`, `file[]` and `match[]` (a Prometheus older than 2.44 ignores all
 * but `type`; queriers filter again), and the current external labels extend every rule's labels.
 */
export function prometheusRulesServer(client: PrometheusClient, externalLabels: () => Labels): RulesServer {
  return {
    async rules(req, signal) {
      const params = new URLSearchParams();
      const type = rulesQueryType(req.type);
      if (type !== undefined) params.set('type', type);
      for (const v of req.ruleName) params.append('rule_name[]', v);
      for (const v of req.ruleGroup) params.append('rule_group[]', v);
      for (const v of req.file) params.append('file[]', v);
      for (const v of req.matcherString) params.append('match[]', v);
      const snap = parsePrometheusRules(await client.rules(params, signal));
      return snapshotRulesServer(() => snap, { externalLabels: externalLabels() }).rules(req, signal);
    },
  };
}
