import { open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkSegmentWriter } from '../chunks/index.js';
import { writeBlockMeta, type BlockMeta } from '../meta/index.js';
import { Tombstones, writeTombstones } from '../tombstones/index.js';
import { BlockError } from './block-error.js';
import type { WrittenBlock } from './block-writer.js';
import type { StreamingBlockWriterOptions } from './streaming-block-writer.js';

/** FinishingBlock is what a block writer hands to finishBlock once chunks and index are written. */
export interface FinishingBlock {
  readonly ulid: string;
  /** parent is the directory the block goes to; tmp its `<ulid>.tmp-for-creation` directory there. */
  readonly parent: string;
  readonly tmp: string;
  /** The writer's options: block range, compaction level, sources, parents and Thanos section. */
  readonly opts: Pick<StreamingBlockWriterOptions, 'minTime' | 'maxTime' | 'level' | 'sources' | 'parents' | 'thanos'>;
  /** The closed chunk writer (segment files and largest chunk go to the Thanos section). */
  readonly chunks: Pick<ChunkSegmentWriter, 'segmentFiles' | 'maxChunkSize'>;
  readonly maxSeriesSize: number;
  /** What was written: first and last sample time and the counts of meta.json's stats. */
  readonly minT: number;
  readonly maxT: number;
  readonly numSeries: number;
  readonly numSamples: number;
  readonly numHistogramSamples: number;
  readonly numChunks: number;
}

/**
 * finishBlock ends a block the same way for every block writer (blocks.md §7): it writes empty
 * tombstones, checks the samples against the block range, writes meta.json, fsyncs the directory
 * and renames `<ulid>.tmp-for-creation` to `<ulid>` (refusing to replace an existing block). On an
 * error the caller removes the temporary directory.
 */
export async function finishBlock(b: FinishingBlock): Promise<WrittenBlock> {
  const { ulid, tmp, opts } = b;
  await writeTombstones(tmp, new Tombstones());
  const minTime = opts.minTime ?? b.minT;
  const maxTime = opts.maxTime ?? b.maxT + 1;
  if (b.minT < minTime || b.maxT >= maxTime) {
    throw new BlockError(tmp, -1, `write block ${ulid}: samples [${b.minT}, ${b.maxT}] outside block range [${minTime}, ${maxTime})`);
  }
  const floats = b.numSamples - b.numHistogramSamples;
  const meta: BlockMeta = {
    ulid,
    minTime,
    maxTime,
    stats: {
      numSamples: b.numSamples,
      ...(floats > 0 ? { numFloatSamples: floats } : {}),
      ...(b.numHistogramSamples > 0 ? { numHistogramSamples: b.numHistogramSamples } : {}),
      numSeries: b.numSeries,
      numChunks: b.numChunks,
    },
    compaction: {
      level: opts.level ?? 1,
      sources: [...new Set(opts.sources ?? [ulid])].sort(),
      ...(opts.parents !== undefined && opts.parents.length > 0 ? { parents: opts.parents.map((p) => ({ ulid: p.ulid, minTime: p.minTime, maxTime: p.maxTime })) } : {}),
    },
    version: 1,
  };
  if (opts.thanos !== undefined) {
    meta.thanos = {
      ...opts.thanos,
      segment_files: [...b.chunks.segmentFiles],
      index_stats: { series_max_size: b.maxSeriesSize, chunk_max_size: b.chunks.maxChunkSize },
    };
  }
  await writeBlockMeta(tmp, meta);
  await syncDir(tmp);
  const final = join(b.parent, ulid);
  if (await exists(final)) throw new BlockError(final, -1, `write block ${ulid}: ${final} already exists`);
  await rename(tmp, final);
  await syncDir(b.parent);
  return { ulid, dir: final, meta };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
