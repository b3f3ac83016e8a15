import type { BlockMeta } from '../tsdb/index.js';
import { groupBlocks } from './group.js';

/** BlockOverlap is a pair of blocks of one compaction group whose time ranges overlap. */
export interface BlockOverlap {
  readonly groupKey: string;
  readonly a: BlockMeta;
  readonly b: BlockMeta;
}

/**
 * findOverlaps returns every pair of blocks of the same group (resolution and external labels)
 * whose [minTime, maxTime) ranges overlap, as Thanos's verify overlapped-blocks check reports them.
 */
export function findOverlaps(metas: Iterable<BlockMeta>): BlockOverlap[] {
  const out: BlockOverlap[] = [];
  for (const g of groupBlocks(metas)) {
    const ms = g.metas;
    for (let i = 0; i < ms.length; i++) {
      for (let j = i + 1; j < ms.length && ms[j]!.minTime < ms[i]!.maxTime; j++) out.push({ groupKey: g.key, a: ms[i]!, b: ms[j]! });
    }
  }
  return out;
}
