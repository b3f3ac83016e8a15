import type { FilterContext, MetaFilter } from '../block/index.js';
import type { BlockMeta } from '../tsdb/index.js';
import { groupKey } from './group.js';

/** DUPLICATE is the sync state of blocks whose data a bigger block already holds. */
export const DUPLICATE = 'duplicate';

/**
 * DeduplicateFilter hides blocks whose compaction sources are all contained in another block
 * of the same group (Thanos's DefaultDeduplicateFilter): a compaction that uploaded its result
 * but did not get to mark its inputs for deletion leaves such duplicates. duplicateIds() returns
 * them after each filter call, so the compactor can mark them for deletion. A block without
 * sources counts as its own source.
 */
export class DeduplicateFilter implements MetaFilter {
  #duplicates: string[] = [];

  duplicateIds(): readonly string[] {
    return this.#duplicates;
  }

  filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void> {
    const groups = new Map<string, BlockMeta[]>();
    for (const m of metas.values()) {
      const k = groupKey(m);
      let g = groups.get(k);
      if (g === undefined) groups.set(k, (g = []));
      g.push(m);
    }
    const dups: string[] = [];
    for (const g of groups.values()) {
      // Bigger source sets first; on equal sets the higher level (a rewrite's output) wins.
      g.sort((a, b) => sourcesOf(b).length - sourcesOf(a).length || b.compaction.level - a.compaction.level || (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0));
      const covering: Set<string>[] = [];
      for (const m of g) {
        const src = sourcesOf(m);
        if (covering.some((c) => src.every((s) => c.has(s)))) {
          dups.push(m.ulid);
          continue;
        }
        covering.push(new Set(src));
      }
    }
    for (const id of dups) {
      metas.delete(id);
      ctx.count(DUPLICATE);
    }
    this.#duplicates = dups.sort();
    return Promise.resolve();
  }
}

function sourcesOf(m: BlockMeta): readonly string[] {
  const s = m.compaction.sources;
  return s !== undefined && s.length > 0 ? s : [m.ulid];
}
