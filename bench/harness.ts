/** Benchmark harness shared by bench/*.bench.ts (run by bench/run.ts via `npm run bench`). */

/** BenchResult is one measured number. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

/** BenchModule is what a *.bench.ts file exports. */
export interface BenchModule {
  run(): Promise<BenchResult[]>;
}

/**
 * timeIt runs fn repeatedly for at least minMs (after one warm-up call) and returns the mean time
 * per call in microseconds.
 */
export async function timeIt(fn: () => unknown | Promise<unknown>, minMs = 300): Promise<number> {
  await fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    await fn();
    n++;
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}
