import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DataSet, writeDataSetBlocks } from '../datagen/index.js';
import type { Bucket } from '../objstore/index.js';
import { formatBlockMeta, readBlockMeta } from '../tsdb/index.js';

/** DemoDataOptions describe the generated demo history. */
export interface DemoDataOptions {
  /** endMs is the end of the history (default: now). Blocks are 2h-aligned; the last may be shorter. */
  readonly endMs?: number;
  /** hours of history (default 12), written as 2h blocks. */
  readonly hours?: number;
  /**
   * startMs is the first scrape time, e.g. where an earlier history ended (then `hours` is
   * ignored; counters start over, as after a restart). Default: `hours` before endMs, on a 2h boundary.
   */
  readonly startMs?: number;
  /** hosts per replica (default 4). */
  readonly hosts?: number;
  /** replicas are the HA replica names (default a, b): the same series with slightly shifted scrapes. */
  readonly replicas?: readonly string[];
  /** scrapeIntervalMs (default 15 s). */
  readonly scrapeIntervalMs?: number;
}

const TWO_HOURS = 2 * 3600_000;

/**
 * writeDemoBlocks writes `hours` of history (at least; it starts on a 2h boundary) for every
 * replica as 2h TSDB blocks into the bucket: the project's generated data set (pkg/datagen, with
 * native histograms; replicas other than 'a' scrape a little later and miss 10 minutes halfway),
 * with Thanos meta sections carrying `{cluster="demo", replica=<r>}`. Each block is uploaded
 * chunks, then index, then meta.json, so a partial upload is never a visible block. Returns the
 * uploaded block ULIDs.
 */
export async function writeDemoBlocks(bucket: Bucket, workDir: string, opts: DemoDataOptions = {}): Promise<string[]> {
  const hours = opts.hours ?? 12;
  const step = opts.scrapeIntervalMs ?? 15_000;
  const end = opts.endMs ?? Math.floor(Date.now() / step) * step;
  const start = opts.startMs !== undefined ? Math.ceil(opts.startMs / step) * step : Math.floor((end - hours * 3600_000) / TWO_HOURS) * TWO_HOURS;
  if (end - start < step) return [];
  const ulids: string[] = [];
  for (const replica of opts.replicas ?? ['a', 'b']) {
    const ds = new DataSet({
      hosts: opts.hosts ?? 4,
      hours: (end - start) / 3600_000,
      intervalSec: step / 1000,
      startSec: start / 1000,
      replica,
      nativeHistograms: true,
    });
    const written = await writeDataSetBlocks(ds, workDir, {
      thanos: { labels: { cluster: 'demo', replica }, downsample: { resolution: 0 }, source: 'sidecar', index_stats: {} },
    });
    for (const w of written) {
      await uploadBlock(bucket, w.dir, w.ulid);
      await rm(w.dir, { recursive: true, force: true });
      ulids.push(w.ulid);
    }
  }
  return ulids;
}

async function uploadBlock(bucket: Bucket, dir: string, ulid: string): Promise<void> {
  const chunkFiles = (await readdir(join(dir, 'chunks'))).sort();
  for (const f of chunkFiles) await bucket.upload(`${ulid}/chunks/${f}`, await readFile(join(dir, 'chunks', f)));
  await bucket.upload(`${ulid}/index`, await readFile(join(dir, 'index')));
  const meta = await readBlockMeta(dir);
  await bucket.upload(`${ulid}/meta.json`, new TextEncoder().encode(formatBlockMeta(meta)));
}
