/**
 * Data fixtures for end-to-end tests and benchmarks: data sets from the project's generator
 * (pkg/datagen, `tessera tools gen openmetrics`: node_exporter + HTTP service shape, two HA
 * replicas) written as OpenMetrics text and turned into real Prometheus TSDB blocks by
 * `promtool tsdb create-blocks-from openmetrics`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DataSet, writeOpenMetricsFile } from '../../pkg/datagen/index.js';

const run = promisify(execFile);

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

function dataSet(opts: Pick<DataSetOptions, 'hours' | 'interval'> & Partial<DataSetOptions>): DataSet {
  return new DataSet({ hosts: opts.hosts ?? 1, hours: opts.hours, replica: opts.replica ?? 'a', ...(opts.interval !== undefined ? { intervalSec: opts.interval } : {}) });
}

/** replicaGap returns the [from, to) window in ms where replica 'b' of a data set scraped nothing. */
export function replicaGap(opts: Pick<DataSetOptions, 'hours' | 'interval'>): { from: number; to: number } {
  const gap = dataSet({ ...opts, replica: 'b' }).gap!;
  return { from: gap.fromMs, to: gap.toMs };
}

/** dataEnd returns the timestamp of the last scrape step of a data set (replica 'a'). */
export function dataEnd(opts: Pick<DataSetOptions, 'hours' | 'interval'>): number {
  return dataSet(opts).lastNominalMs;
}

/** generateOpenMetrics writes the data set as OpenMetrics text to outFile. */
export async function generateOpenMetrics(opts: DataSetOptions, outFile: string): Promise<void> {
  await writeOpenMetricsFile(dataSet(opts), outFile);
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
  // `dg1`: blocks of the project's generator (the cache key changes when its data changes).
  return cachedDir(join(cacheDir, `dg1-h${opts.hosts}-${opts.hours}h-i${opts.interval ?? 15}-${opts.replica}`), async (tmp) => {
    await makeBlocks(promtool, opts, tmp);
  });
}

/**
 * cachedDir returns dir, first filling it with write (given a temporary sibling directory path,
 * renamed to dir when write is done) unless a `.complete` marker shows an earlier run finished it.
 */
export async function cachedDir(dir: string, write: (tmp: string) => Promise<void>): Promise<{ dir: string; generatedMs: number }> {
  if (existsSync(join(dir, '.complete'))) return { dir, generatedMs: 0 };
  const t0 = performance.now();
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(dirname(dir), { recursive: true });
  await write(tmp);
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
