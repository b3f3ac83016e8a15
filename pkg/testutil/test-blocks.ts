import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Labels } from '../labels/index.js';
import { uploadDir, type Bucket } from '../objstore/index.js';
import { BlockWriter } from '../tsdb/index.js';
import { formatBlockMeta, parseBlockMeta, type BlockMeta } from '../tsdb/index.js';

/** TestSeries is a float series for writeTestBlock. */
export interface TestSeries {
  readonly labels: Labels;
  readonly samples: readonly (readonly [number, number])[];
}

/**
 * writeTestBlock writes series (samples within [mint, maxt) only; series without any are left
 * out) as one TSDB block with BlockWriter, adds the thanos section with ext labels, uploads it to
 * bkt and returns its meta. Test helper (pkg/testutil is excluded from the build).
 */
export async function writeTestBlock(bkt: Bucket, series: readonly TestSeries[], ext: Labels, opts: { mint?: number; maxt?: number; samplesPerChunk?: number; resolution?: number } = {}): Promise<BlockMeta> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bstore-'));
  try {
    const w = await BlockWriter.create(dir, opts.samplesPerChunk !== undefined ? { cutter: { samplesPerChunk: opts.samplesPerChunk } } : {});
    const sorted = [...series].sort((a, b) => Labels.compare(a.labels, b.labels));
    const mint = opts.mint ?? -Infinity;
    const maxt = opts.maxt ?? Infinity;
    for (const s of sorted) {
      const sel = s.samples.filter(([t]) => t >= mint && t < maxt);
      if (sel.length === 0) continue;
      await w.addSeries(s.labels, sel.map((x) => x[0]), sel.map((x) => x[1]));
    }
    const b = await w.flush();
    const metaPath = join(b.dir, 'meta.json');
    const meta = parseBlockMeta(await readFile(metaPath, 'utf8'));
    meta.thanos = { labels: ext.toRecord(), downsample: { resolution: opts.resolution ?? 0 }, source: 'test', index_stats: {} };
    await writeFile(metaPath, formatBlockMeta(meta));
    await uploadDir(bkt, b.dir, b.ulid);
    return meta;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
