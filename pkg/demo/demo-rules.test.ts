import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FilesystemBucket } from '../objstore/index.js';
import { Engine } from '../promql/index.js';
import { parseRuleFile } from '../rules/index.js';
import { requireBinary } from '../testutil/index.js';
import { BlockReader } from '../tsdb/index.js';
import { writeDemoBlocks } from './demo-data.js';
import { DEMO_RULE_GROUPS, DEMO_RULES, writeDemoRules } from './demo-rules.js';

const promtool = requireBinary('promtool');

describe('demo rules', () => {
  const parsed = parseRuleFile(DEMO_RULES, 'demo.rules.yaml');
  const rule = (name: string) => parsed.groups.flatMap((g) => g.rules).find((r) => r.alert === name || r.record === name)!;

  test('are a valid rule file with the groups DEMO_RULE_GROUPS names', () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.groups.map((g) => g.name)).toEqual([...DEMO_RULE_GROUPS]);
    expect(parsed.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined).map((r) => r.alert)).toEqual(['DemoApiErrorRatioHigh', 'DemoApiErrorRatioCritical', 'DemoTargetDown']);
  });

  test.skipIf(promtool === undefined)('pass promtool check rules', async () => {
    const file = await writeDemoRules(mkdtempSync(join(tmpdir(), 'tessera-demo-rules-')));
    const out = execFileSync(promtool!, ['check', 'rules', file], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS: 8 rules found');
  });

  // The alert that should fire does on the demo data, the critical one does not; the recording
  // rule gives one series per job.
  test('over the demo data: DemoApiErrorRatioHigh fires, DemoApiErrorRatioCritical does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-rules-'));
    const bucket = new FilesystemBucket({ directory: join(dir, 'bucket') });
    const end = 1767225600000 + 2 * 3600_000;
    const [ulid] = await writeDemoBlocks(bucket, join(dir, 'work'), { endMs: end, hours: 2, hosts: 4, replicas: ['a'] });
    const block = await BlockReader.open(join(dir, 'bucket', ulid!));
    const engine = new Engine();
    const at = end - 15_000;
    const eval1 = async (expr: string) => {
      const r = await engine.instantQuery(block, expr, at).exec();
      if (r.value.type !== 'vector') throw new Error(`${expr}: not a vector`);
      return r.value.value.map((s) => ({ labels: s.metric.toString(), value: s.f }));
    };
    const high = await eval1(rule('DemoApiErrorRatioHigh').expr);
    expect(high).toHaveLength(1);
    expect(high[0]!.labels).toBe('{job="api"}');
    expect(high[0]!.value).toBeGreaterThan(0.015);
    expect(high[0]!.value).toBeLessThan(0.05);
    expect(await eval1(rule('DemoApiErrorRatioCritical').expr)).toEqual([]);
    expect(await eval1(rule('DemoTargetDown').expr)).toEqual([]);
    const rate = await eval1(rule('job:http_requests:rate15m').expr);
    expect(rate.map((s) => s.labels)).toEqual(['{job="api"}']);
    expect(rate[0]!.value).toBeGreaterThan(4 * 10);
  });
});
