/**
 * Issue 13 (memory): bytes per sample the engine holds for a large subquery and a large range
 * query, against Prometheus's peak RSS growth on the same query over the same blocks, in the
 * same run. Ours runs in a fresh child process (bench/memory-child.ts) so its peak RSS is the
 * query's; Prometheus's is read from /proc/<pid>/status (VmHWM after the query minus VmRSS
 * before it; it includes encoding the JSON response, which ours does not).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findBinary } from '../pkg/testutil/index.js';
import { cachedBlocks, copyBlocks } from '../test/e2e/fixtures.js';
import { startPrometheus, type Service } from '../test/e2e/services.js';
import { DASHBOARD_DATA, DASHBOARD_RANGE } from './dashboard-queries.js';
import type { BenchResult } from './harness.js';

const run$ = promisify(execFile);
const child = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../', import.meta.url));

function statusKB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

interface Case {
  readonly id: string;
  readonly expr: string;
  readonly instant: boolean;
}

export async function run(): Promise<BenchResult[]> {
  const promtool = findBinary('promtool');
  const prometheus = findBinary('prometheus');
  if (promtool === undefined || prometheus === undefined || process.platform !== 'linux') {
    console.log('memory.bench: SKIPPED (needs promtool, prometheus and /proc)');
    return [];
  }
  const { dir: blocks } = await cachedBlocks(promtool, DASHBOARD_DATA);
  const t = DASHBOARD_RANGE.end;
  const { start, end } = DASHBOARD_RANGE;
  const cases: Case[] = [
    // 200 series x 36,000 subquery steps = 7.2 M samples.
    { id: 'subquery count_over_time(up[1h:100ms])', expr: 'count_over_time(up[1h:100ms])', instant: true },
    // 200 series x 10,801 steps = 2.16 M points in the result.
    { id: 'range up, 3 h at 1 s', expr: 'up', instant: false },
  ];
  const work = await mkdtemp(join(tmpdir(), 'tessera-bench-memory-'));
  let prom: Service | undefined;
  const out: BenchResult[] = [];
  try {
    await copyBlocks(blocks, join(work, 'data'));
    prom = await startPrometheus(prometheus, {
      dataDir: join(work, 'data'),
      configFile: join(work, 'prometheus.yml'),
      extraArgs: ['--storage.tsdb.min-block-duration=2h', '--storage.tsdb.max-block-duration=2h', '--query.max-samples=500000000'],
    });
    const pid = prom.process.proc.pid!;
    for (const c of cases) {
      const args = c.instant ? ['instant', c.expr, String(t)] : ['range', c.expr, String(start), String(end), '1000'];
      const { stdout } = await run$(process.execPath, ['--expose-gc', '--import', 'tsx', child, blocks, ...args], { cwd: root, maxBuffer: 1 << 20 });
      const ours = JSON.parse(stdout.trim().split('\n').pop()!) as { baseKB: number; peakKB: number; points: number };
      // Reset Prometheus's peak RSS to its current RSS (clear_refs 5), so each query's peak is its own.
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        // Older kernels: the peak may then be an earlier query's.
      }
      const before = statusKB(pid, 'VmRSS');
      const q = c.instant ? `query?query=${encodeURIComponent(c.expr)}&time=${t / 1000}` : `query_range?query=${encodeURIComponent(c.expr)}&start=${start / 1000}&end=${end / 1000}&step=1`;
      const res = await fetch(`${prom.httpUrl}/api/v1/${q}`);
      await res.arrayBuffer();
      const theirsKB = statusKB(pid, 'VmHWM') - before;
      const oursKB = ours.peakKB - ours.baseKB;
      const perSample = (oursKB * 1024) / ours.points;
      console.log(
        `memory ${c.id.padEnd(42)} samples ${(ours.points / 1e6).toFixed(2)} M   tessera +${(oursKB / 1024).toFixed(0)} MB (${perSample.toFixed(1)} B/sample)   prometheus +${(theirsKB / 1024).toFixed(0)} MB (${((theirsKB * 1024) / ours.points).toFixed(1)} B/sample, HTTP ${res.status})`,
      );
      out.push({ name: `memory ${c.id} tessera bytes/sample`, value: perSample, unit: 'B' });
      out.push({ name: `memory ${c.id} prometheus bytes/sample`, value: (theirsKB * 1024) / ours.points, unit: 'B' });
    }
    return out;
  } finally {
    await prom?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
