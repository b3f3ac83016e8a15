import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCaptured, type CapturedRun } from './run-captured.js';
import { toolsGenCommand } from './tools-gen.js';
import { readBlockMeta } from '../pkg/tsdb/index.js';

const cli = (argv: string[]): Promise<CapturedRun> => runCaptured(toolsGenCommand, argv);

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('tessera tools gen', () => {
  test('openmetrics writes the same text to stdout and --out, and reports what it wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-gen-'));
    dirs.push(dir);
    const args = ['openmetrics', '--hosts', '1', '--hours', '0.5', '--interval', '30', '--replica', 'b', '--start', '1767232800'];
    const a = await cli(args);
    const b = await cli([...args, '--out', join(dir, 'x.om')]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(await readFile(join(dir, 'x.om'), 'utf8')).toBe(a.out);
    expect(a.out).toMatch(/^# HELP node_cpu_seconds_total .*\n# TYPE node_cpu_seconds_total counter\nnode_cpu_seconds_total\{cpu="0",instance="host-0000:9100",job="node",mode="user"\} [0-9.]+ 1767232800\.[0-9]{3}\n/);
    expect(a.out.endsWith('# EOF\n')).toBe(true);
    // 60 steps at 30s; replica b misses floor(600/30) = 20 of them.
    expect(a.err).toMatch(/^series=72 samples=2880 from=17672328002\d\d to=1767234570\d{3} replica=b\n$/);
    expect(a.out.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toHaveLength(2880);
  });

  test('blocks writes 2h blocks with native histograms', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-gen-'));
    dirs.push(dir);
    const r = await cli(['blocks', '--hosts', '1', '--hours', '3', dir]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    const ulids = (await readdir(dir)).sort();
    expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual(ulids);
    const metas = await Promise.all(ulids.map((u) => readBlockMeta(join(dir, u))));
    expect(metas.map((m) => m.maxTime - m.minTime).sort()).toEqual([3600_000, 7200_000]);
    expect(metas.every((m) => m.stats.numSeries === 75 && (m.stats.numHistogramSamples ?? 0) > 0)).toBe(true);
  });

  test('bad flags are usage errors, impossible data sets errors', async () => {
    expect((await cli(['openmetrics', '--hosts', 'x'])).code).toBe(2);
    expect((await cli(['blocks'])).code).toBe(2);
    const r = await cli(['openmetrics', '--hosts', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: generate data set: hosts 0 is not a positive integer\n');
  });
});
