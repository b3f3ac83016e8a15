/**
 * Data fixtures for end-to-end tests and benchmarks: OpenMetrics data sets from the shared
 * generator (node_exporter + HTTP service shape, two HA replicas), turned into real Prometheus
 * TSDB blocks by `promtool tsdb create-blocks-from openmetrics`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inCI } from '../../pkg/testutil/index.js';
import { GEN_OPENMETRICS } from '../../pkg/testutil/index.js';

const run = promisify(execFile);

/** GEN_OPENMETRICS is the shared data generator script (override with TESSERA_GEN_OPENMETRICS). */
export { GEN_OPENMETRICS };

/** DATA_START_MS is the generator's default first timestamp: 2026-01-01T00:00:00Z. */
export const DATA_START_MS = 1_767_225_600_000;

/** DataSetOptions name one generated data set. */
export interface DataSetOptions {
  readonly hosts: number;
  readonly hours: number;
  /** replica 'a' scrapes at exact interval multiples; 'b' is shifted by 250–649 ms and has a 10-minute gap. */
  readonly replica: 'a' | 'b';
  /** interval is the scrape interval in seconds (default 15). */
  readonly interval?: number;
}

/**
 * requireGenerator returns the generator script path, or undefined after a loud warning when it is
 * missing (throws under CI=true), like requireBinary does for external binaries.
 */
export function requireGenerator(): string | undefined {
  if (existsSync(GEN_OPENMETRICS)) return GEN_OPENMETRICS;
  const msg = `OpenMetrics generator ${GEN_OPENMETRICS} not found; set TESSERA_GEN_OPENMETRICS`;
  if (inCI()) throw new Error(`${msg} (CI=true: failing instead of skipping)`);
  console.warn(`\n*** SKIPPING: ${msg} ***\n`);
  return undefined;
}

/**
 * replicaGap returns the [from, to) window in ms where replica 'b' of a data set scraped nothing
 * (the generator's formula: the 10 minutes starting at half of the data set's steps).
 */
export function replicaGap(opts: Pick<DataSetOptions, 'hours' | 'interval'>): { from: number; to: number } {
  const interval = opts.interval ?? 15;
  const steps = Math.floor((opts.hours * 3600) / interval);
  const gapFrom = Math.floor(steps * 0.5);
  const gapTo = gapFrom + Math.floor(600 / interval);
  return { from: DATA_START_MS + gapFrom * interval * 1000, to: DATA_START_MS + gapTo * interval * 1000 };
}

/** dataEnd returns the timestamp of the last scrape step of a data set (replica 'a'). */
export function dataEnd(opts: Pick<DataSetOptions, 'hours' | 'interval'>): number {
  const interval = opts.interval ?? 15;
  return DATA_START_MS + (Math.floor((opts.hours * 3600) / interval) - 1) * interval * 1000;
}

/** generateOpenMetrics writes the data set as OpenMetrics text to outFile. */
export async function generateOpenMetrics(opts: DataSetOptions, outFile: string): Promise<void> {
  const args = [GEN_OPENMETRICS, '--hosts', String(opts.hosts), '--hours', String(opts.hours), '--replica', opts.replica, '--out', outFile];
  if (opts.interval !== undefined) args.push('--interval', String(opts.interval));
  await run(process.execPath, args, { maxBuffer: 1 << 20 });
}

/** listBlocks returns the ULID-named block directories directly under dir, sorted. */
export async function listBlocks(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** createBlocks runs `promtool tsdb create-blocks-from openmetrics omFile outDir` and returns the new block ULIDs. */
export async function createBlocks(promtool: string, omFile: string, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  await run(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', omFile, outDir], { maxBuffer: 16 << 20 });
  return listBlocks(outDir);
}

/**
 * makeBlocks generates a data set and turns it into promtool blocks under outDir (the OpenMetrics
 * file is written next to it and removed afterwards). Returns the block ULIDs.
 */
export async function makeBlocks(promtool: string, opts: DataSetOptions, outDir: string): Promise<string[]> {
  const om = `${outDir}.om`;
  try {
    await generateOpenMetrics(opts, om);
    return await createBlocks(promtool, om, outDir);
  } finally {
    await rm(om, { force: true });
  }
}

/** benchCacheDir is where benchmarks keep generated blocks between runs (TESSERA_BENCH_CACHE overrides). */
export function benchCacheDir(): string {
  return process.env['TESSERA_BENCH_CACHE'] ?? join(tmpdir(), 'tessera-bench-cache');
}

/**
 * cachedBlocks returns a directory holding the promtool blocks of a data set, generating them on
 * first use under the cache dir (a `.complete` marker guards against half-written sets).
 */
export async function cachedBlocks(promtool: string, opts: DataSetOptions, cacheDir = benchCacheDir()): Promise<{ dir: string; generatedMs: number }> {
  const dir = join(cacheDir, `om-h${opts.hosts}-${opts.hours}h-i${opts.interval ?? 15}-${opts.replica}`);
  if (existsSync(join(dir, '.complete'))) return { dir, generatedMs: 0 };
  const t0 = performance.now();
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(cacheDir, { recursive: true });
  await makeBlocks(promtool, opts, tmp);
  await writeFile(join(tmp, '.complete'), new Date().toISOString());
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return { dir, generatedMs: performance.now() - t0 };
}

/** copyBlocks copies the block directories of src into dst (e.g. to seed a Prometheus data dir). */
export async function copyBlocks(src: string, dst: string): Promise<void> {
  await mkdir(dst, { recursive: true });
  for (const b of await listBlocks(src)) await cp(join(src, b), join(dst, b), { recursive: true });
}
