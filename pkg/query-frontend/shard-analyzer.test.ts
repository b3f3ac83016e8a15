import { describe, expect, test } from 'vitest';
import { analyzeShardable } from './shard-analyzer.js';

describe('analyzeShardable (Thanos querysharding rules)', () => {
  test.each([
    ['sum by (job) (rate(x[5m]))', { by: true, labels: ['job'] }],
    ['sum by (job, instance) (x) / sum by (job) (y)', { by: true, labels: ['job'] }],
    ['sum without (instance) (x)', { by: false, labels: ['instance', '__name__'] }],
    ['sum by (job, le) (rate(b[5m]))', { by: true, labels: ['job', 'le'] }],
    ['histogram_quantile(0.9, sum by (job, le) (rate(b[5m])))', { by: true, labels: ['job'] }],
    ['max by (job) (x) * on (job) group_left (team) info_metric', { by: true, labels: ['job'] }],
    ['sum by (job) (x) > bool 3', { by: true, labels: ['job'] }],
    ['max_over_time(sum by (job) (rate(x[5m]))[1h:1m])', { by: true, labels: ['job'] }],
    ['topk by (job) (2, x)', { by: true, labels: ['job'] }],
    ['sum by (job, pod) (label_replace(x, "pod", "$1", "instance", "(.*)"))', { by: true, labels: ['job'] }],
    ['sum by (job) (x) or vector(0)', { by: true, labels: ['job'] }],
  ])('%s is shardable', (q, want) => {
    expect(analyzeShardable(q)).toEqual(want);
  });

  test.each([
    'x',
    'rate(x[5m])',
    'sum(x)',
    'sum by (job) (x) / on () group_left sum(x)',
    'sum by (job) (x) / scalar(sum(y))',
    'absent(x)',
    'sum by (job) (absent_over_time(x[5m]))',
    'sum by (pod) (label_replace(x, "pod", "$1", "instance", "(.*)"))',
    'histogram_quantile(0.9, sum by (le) (rate(b[5m])))',
    'count(x) by ()',
    'not valid promql (',
  ])('%s is not shardable', (q) => {
    expect(analyzeShardable(q)).toBeUndefined();
  });
});
