import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { Engine, MemoryStorage, isStaleNaN } from '../promql/index.js';
import type { Alert } from './alerting-rule.js';
import { engineQueryFunc } from './engine-query-func.js';
import { parseRuleFile } from './rule-file.js';
import { RuleGroup, type RuleGroupDeps } from './rule-group.js';
import type { RuleSample } from './rule-types.js';
import { TemplateExpander } from './template-expander.js';

const S = 1000;

describe('rule group over the PromQL engine', () => {
  test('a recording rule result is queryable by the next rule of the same evaluation; templates query the engine', async () => {
    const file = parseRuleFile(
      `groups:
  - name: g
    interval: 10s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: TooFewUp
        expr: job:up:sum < 3
        labels:
          severity: '{{ if lt $value 2.0 }}page{{ else }}ticket{{ end }}'
        annotations:
          summary: '{{ $labels.job }} has {{ $value }} of {{ with query "count(up)" }}{{ . | first | value }}{{ end }} up'
      - record: scalar_rule
        expr: '1 + 1'
      - record: string_rule
        expr: '"str"'
`,
      'f.yml',
    );
    expect(file.errors).toEqual([]);
    const storage = new MemoryStorage();
    const t0 = 1_767_225_600_000;
    const up = (inst: string, v: number, t: number): void => storage.append(Labels.fromStrings('__name__', 'up', 'instance', inst, 'job', 'node'), t, v);
    up('a', 1, t0 - 5 * S);
    up('b', 0, t0 - 5 * S);
    up('c', 1, t0 - 5 * S);
    const sent: Alert[] = [];
    const appended: RuleSample[] = [];
    const deps: RuleGroupDeps = {
      query: engineQueryFunc(new Engine(), storage),
      append: async (samples) => {
        for (const s of samples) storage.append(s.labels, s.t, s.v);
        appended.push(...samples);
      },
      notify: (_e, a) => sent.push(...a),
      templates: { expander: new TemplateExpander({ externalURL: '' }), externalLabels: new Map(), externalURL: '' },
    };
    const g = RuleGroup.fromDef(file.groups[0]!, 'f.yml', { defaultInterval: 60 * S, defaultQueryOffset: 0, resendDelay: 60 * S, restore: false, restoreOptions: { outageTolerance: 3600 * S, gracePeriod: 600 * S } });
    expect(g.options.interval).toBe(10 * S);
    const res = await g.eval(t0, deps);
    expect(res).toEqual({ samples: 4, failedRules: 1 });
    expect(appended.map((s) => `${s.labels.toString()} ${s.v}`)).toEqual([
      '{__name__="job:up:sum", job="node"} 2',
      '{__name__="ALERTS", alertname="TooFewUp", alertstate="firing", job="node", severity="ticket"} 1',
      `{__name__="ALERTS_FOR_STATE", alertname="TooFewUp", job="node", severity="ticket"} ${t0 / 1000}`,
      '{__name__="scalar_rule"} 2',
    ]);
    expect(g.rules[3]!.lastError?.message).toBe('rule result is not a vector or scalar');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.annotations).toEqual({ summary: 'node has 2 of 3 up' });
    // all up: the alert resolves, its ALERTS series get stale markers
    up('b', 1, t0 + 5 * S);
    appended.length = 0;
    await g.eval(t0 + 10 * S, deps);
    expect(appended.filter((s) => isStaleNaN(s.v)).map((s) => s.labels.get('__name__'))).toEqual(['ALERTS', 'ALERTS_FOR_STATE']);
    expect(sent.at(-1)!.resolvedAt).toBe(t0 + 10 * S);
  });
});
