import { Labels } from '../labels/index.js';
import { BlockReader, type IndexChunkMeta } from '../tsdb/index.js';

/** BlockIssueKind names a problem verifyBlock finds. */
export const BlockIssueKind = {
  /** The block cannot be opened or read (missing or corrupt index, chunk file, meta.json). */
  Corrupt: 'corrupt',
  /** Chunks of a series overlap or are not in time order. */
  OutOfOrderChunks: 'out-of-order-chunks',
  /** A chunk lies (partly) outside the block's time range. */
  ChunkOutsideRange: 'chunk-outside-range',
  /** Series are not in label order, or a series repeats. */
  OutOfOrderSeries: 'out-of-order-series',
  /** A series' label names are not sorted. */
  OutOfOrderLabels: 'out-of-order-labels',
} as const;
export type BlockIssueKind = (typeof BlockIssueKind)[keyof typeof BlockIssueKind];

/** BlockIssue is one kind of problem with its count and the first example. */
export interface BlockIssue {
  readonly kind: BlockIssueKind;
  readonly count: number;
  readonly example: string;
}

/** BlockHealth is what verifyBlock found (Thanos's HealthStats, the parts we act on). */
export interface BlockHealth {
  readonly series: number;
  readonly chunks: number;
  /** duplicatedChunks counts chunks with the same time range as the previous one (tolerated, as in Thanos). */
  readonly duplicatedChunks: number;
  readonly issues: readonly BlockIssue[];
}

/**
 * verifyBlock checks a local block as Thanos's GatherIndexHealthStats does: every series entry
 * decodes, series are in order with sorted label names, chunks of a series are in time order
 * without overlap (identical ranges count as duplicates, not errors) and inside the block's
 * [minTime, maxTime]. With `readChunks`, every chunk record is also read (CRC checked) and
 * decoded. Problems are reported, never thrown; an unreadable block is one `corrupt` issue.
 */
export async function verifyBlock(dir: string, opts: { readChunks?: boolean } = {}): Promise<BlockHealth> {
  const counts = new Map<BlockIssueKind, { count: number; example: string }>();
  const add = (kind: BlockIssueKind, example: string): void => {
    const c = counts.get(kind);
    if (c === undefined) counts.set(kind, { count: 1, example });
    else c.count++;
  };
  let series = 0;
  let chunks = 0;
  let duplicatedChunks = 0;
  let block: BlockReader;
  try {
    block = await BlockReader.open(dir);
  } catch (err) {
    add(BlockIssueKind.Corrupt, (err as Error).message);
    return { series, chunks, duplicatedChunks, issues: toIssues(counts) };
  }
  try {
    const { minTime, maxTime } = block.meta;
    const p = block.index.allPostings();
    const metas: IndexChunkMeta[] = [];
    let prev: Labels | undefined;
    while (p.next()) {
      const lset = block.index.series(p.at(), metas);
      series++;
      const desc = lset.toString();
      if (prev !== undefined && Labels.compare(prev, lset) >= 0) add(BlockIssueKind.OutOfOrderSeries, `${desc} after ${prev.toString()}`);
      prev = lset;
      let lastName = '';
      lset.forEach((name) => {
        if (name < lastName) add(BlockIssueKind.OutOfOrderLabels, desc);
        lastName = name;
      });
      for (let i = 0; i < metas.length; i++) {
        const c = metas[i]!;
        chunks++;
        if (c.minTime < minTime || c.maxTime > maxTime) add(BlockIssueKind.ChunkOutsideRange, `${desc}: chunk [${c.minTime}, ${c.maxTime}] outside block [${minTime}, ${maxTime}]`);
        if (opts.readChunks === true) block.chunks.chunk(c.ref).numSamples();
        if (i === 0) continue;
        const c0 = metas[i - 1]!;
        if (c.minTime > c0.maxTime) continue;
        if (c.minTime === c0.minTime && c.maxTime === c0.maxTime) {
          duplicatedChunks++;
          continue;
        }
        add(BlockIssueKind.OutOfOrderChunks, `${desc}: chunk [${c.minTime}, ${c.maxTime}] after [${c0.minTime}, ${c0.maxTime}]`);
      }
    }
    const err = p.err();
    if (err !== null) throw err;
  } catch (err) {
    add(BlockIssueKind.Corrupt, (err as Error).message);
  } finally {
    block.close();
  }
  return { series, chunks, duplicatedChunks, issues: toIssues(counts) };
}

function toIssues(counts: Map<BlockIssueKind, { count: number; example: string }>): BlockIssue[] {
  return [...counts].map(([kind, c]) => ({ kind, count: c.count, example: c.example }));
}

/** formatIssues renders issues for logs and marker details: `kind: N (e.g. example); …`. */
export function formatIssues(issues: readonly BlockIssue[]): string {
  return issues.map((i) => `${i.kind}: ${i.count} (e.g. ${i.example})`).join('; ');
}
