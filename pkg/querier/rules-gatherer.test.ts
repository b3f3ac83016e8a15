import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import type { AlertingRuleSnapshot, RecordingRuleSnapshot, RuleGroupSnapshot } from '../rules/index.js';
import { dedupRuleGroups } from './rules-gatherer.js';

const T0 = 1_700_000_000_000;

function recording(lastEvaluation: number, evaluationTime: number): RecordingRuleSnapshot {
  return { type: 'recording', name: 'job:up:sum', query: 'sum by (job) (up)', labels: Labels.fromRecord({ replica: 'x' }), health: 'ok', lastError: undefined, evaluationTime, lastEvaluation };
}

function alerting(state: AlertingRuleSnapshot['state'], lastEvaluation: number): AlertingRuleSnapshot {
  return {
    type: 'alerting', name: 'Down', query: 'up == 0', labels: Labels.EMPTY, health: 'ok', lastError: undefined, evaluationTime: 1, lastEvaluation,
    state, duration: 60_000, keepFiringFor: 0, annotations: Labels.EMPTY, alerts: [],
  };
}

/** Two HA copies of one group: evaluated a minute apart, each rule copy a bit different. */
function copies(): RuleGroupSnapshot[] {
  const group = (lastEvaluation: number, evaluationTime: number, rules: RuleGroupSnapshot['rules']): RuleGroupSnapshot => ({
    name: 'g', file: 'rules.yml', interval: 60_000, limit: 0, evaluationTime, lastEvaluation, partialResponseStrategy: 'abort', rules,
  });
  return [
    group(T0, 5, [recording(T0, 2), alerting('pending', T0)]),
    group(T0 + 60_000, 7, [recording(T0, 3), alerting('firing', T0 + 60_000)]),
  ];
}

describe('dedupRuleGroups', () => {
  test('the merged group is the same whichever copy an endpoint answered first', () => {
    const [a, b] = copies();
    const ab = dedupRuleGroups([a!, b!], ['replica']);
    const ba = dedupRuleGroups([b!, a!], ['replica']);
    expect(ab).toEqual(ba);
    expect(ab).toHaveLength(1);
    // group fields from the copy evaluated last; of identical rules, the firing one, and on an equal
    // last evaluation the longer one
    expect(ab[0]).toMatchObject({ lastEvaluation: T0 + 60_000, evaluationTime: 7 });
    expect(ab[0]!.rules.map((r) => [r.name, r.evaluationTime])).toEqual([['Down', 1], ['job:up:sum', 3]]);
    expect((ab[0]!.rules[0] as AlertingRuleSnapshot).state).toBe('firing');
  });
});
