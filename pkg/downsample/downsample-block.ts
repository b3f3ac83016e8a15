import { MatchType, Matcher } from '../labels/index.js';
import { BlockReader, StreamingBlockWriter, type ThanosMeta, type WrittenBlock } from '../tsdb/index.js';
import { DownsampleError, DownsampleErrorCode } from './downsample-error.js';
import { Downsampler } from './downsampler.js';
import { resolutionName } from './resolution.js';

/** DownsampleBlockOptions says which block to downsample, to what, and where to write the result. */
export interface DownsampleBlockOptions {
  /** blockDir is the input block's directory (meta.json, index, chunks/). */
  readonly blockDir: string;
  /** outDir is the parent directory of the new block (created if needed). */
  readonly outDir: string;
  /** resolution is the target resolution in milliseconds; it must be coarser than the input's. */
  readonly resolution: number;
  /** ulid of the new block; default a fresh one. */
  readonly ulid?: string;
  /** signal aborts between series; the partial block is removed. */
  readonly signal?: AbortSignal;
  /** downsampler to reuse (its buffers), e.g. one per worker, and its options (histograms: 'skip'); default a new one. */
  readonly downsampler?: Downsampler;
}

const ALL = [new Matcher(MatchType.Regexp, '__name__', '(?s:.*)')];

/**
 * downsampleBlock writes a downsampled copy of a block, as Thanos's `downsample.Downsample` does:
 * every series' chunks are downsampled (Downsampler.series) and written as they come (memory bounded
 * by one series plus the index's symbol table) with a StreamingBlockWriter into
 * `<outDir>/<ulid>`. The new meta.json copies the input's time range, compaction section (level,
 * sources, parents) and external labels, with `thanos.downsample.resolution` set to the target and
 * `thanos.source` "compactor"; stats count the aggregate chunks' windows (count sub-chunk samples).
 * Series left without chunks are dropped. Returns undefined (and writes nothing) when no series has
 * data left. Errors are DownsampleErrors naming the series and block, or the reader's/writer's.
 */
export async function downsampleBlock(opts: DownsampleBlockOptions): Promise<WrittenBlock | undefined> {
  const r = await BlockReader.open(opts.blockDir);
  try {
    const src = r.meta;
    const inRes = src.thanos?.downsample.resolution ?? 0;
    if (!(opts.resolution > inRes)) {
      throw new DownsampleError(DownsampleErrorCode.Resolution, `downsample block ${src.ulid}: target resolution ${resolutionName(opts.resolution)} is not coarser than its ${resolutionName(inRes)}`);
    }
    const thanos: ThanosMeta = {
      labels: { ...(src.thanos?.labels ?? {}) },
      downsample: { resolution: opts.resolution },
      source: 'compactor',
      index_stats: {},
      ...(src.thanos?.version !== undefined ? { version: src.thanos.version } : {}),
    };
    const symbols = new Set<string>();
    for (const n of r.index.labelNames()) {
      symbols.add(n);
      for (const v of r.index.labelValues(n)) symbols.add(v);
    }
    const w = await StreamingBlockWriter.create(opts.outDir, {
      ...(opts.ulid !== undefined ? { ulid: opts.ulid } : {}),
      minTime: src.minTime,
      maxTime: src.maxTime,
      level: src.compaction.level,
      ...(src.compaction.sources !== undefined ? { sources: src.compaction.sources } : {}),
      ...(src.compaction.parents !== undefined ? { parents: src.compaction.parents } : {}),
      thanos,
      symbols,
    });
    const ds = opts.downsampler ?? new Downsampler();
    try {
      const set = await (await r.chunkQuerier(src.minTime, src.maxTime)).select(true, undefined, ALL);
      while (set.next()) {
        opts.signal?.throwIfAborted();
        const s = set.at();
        const lset = s.labels();
        const out = ds.series([...s.chunks()], inRes, opts.resolution, `series ${lset.toString()} of block ${src.ulid}`);
        await w.addSeries(lset, out);
      }
      const err = set.err();
      if (err !== null) throw err;
      if (w.numSeries === 0) {
        await w.abort();
        return undefined;
      }
    } catch (err) {
      await w.abort();
      throw err;
    }
    return await w.flush();
  } finally {
    r.close();
  }
}
