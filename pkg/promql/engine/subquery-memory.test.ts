import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./testdata/subquery-memory-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Outcome {
  ok: boolean;
  series?: number;
  counts?: number[];
  errorType?: string;
  error?: string;
  baseRss: number;
  peakRss: number;
}

/**
 * runChild evaluates count_over_time(up[6h:<step>]) over 20 series in a child process whose old
 * space is 160 MB: the former representation (an object per subquery sample, ~100 bytes) dies
 * with "JavaScript heap out of memory" at 4.32 M samples; typed arrays hold them off the heap.
 */
async function runChild(step: string, maxSamples: number): Promise<Outcome> {
  const { stdout } = await run(process.execPath, ['--max-old-space-size=160', '--import', 'tsx', child, step, String(maxSamples)], { cwd: root, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;
}

// Issue 13 item 1, scaled for CI: count_over_time(up[6h:10ms]) at 1767247200 (43.2 M subquery
// samples under max-samples 50 M) becomes [6h:100ms] (4.32 M samples) under a limit of 6 M.
describe('subquery memory', () => {
  test('a subquery of 4.32 M samples under a 6 M limit answers in a 160 MB heap', async () => {
    const r = await runChild('100ms', 6_000_000);
    expect(r.ok).toBe(true);
    expect(r.series).toBe(20);
    expect(r.counts).toEqual([216_000]);
    // 16 bytes a sample in typed arrays; allow generous slack for the allocator and the runtime.
    expect((r.peakRss - r.baseRss) / 4_320_000).toBeLessThan(48);
  });

  test('a subquery over the limit fails with the too-many-samples error before holding it all', async () => {
    // [6h:10ms] is 43.2 M samples: the evaluation stops at 6 M.
    const r = await runChild('10ms', 6_000_000);
    expect(r.ok).toBe(false);
    expect(r.errorType).toBe('execution');
    expect(r.error).toBe('query processing would load too many samples into memory in query execution');
    expect(r.peakRss - r.baseRss).toBeLessThan(400 * 1024 * 1024);
  });
});
