import type { BlockMeta } from '../tsdb/index.js';
import { SyncState, type FilterContext, type MetaFilter } from './meta-filter.js';

/**
 * TimePartitionMetaFilter keeps the blocks overlapping [minTime, maxTime] (inclusive ms), as the
 * store gateway's --min-time/--max-time do. Block maxTime is exclusive, so a block ending exactly
 * at minTime is dropped.
 */
export class TimePartitionMetaFilter implements MetaFilter {
  readonly #min: number;
  readonly #max: number;

  constructor(minTime: number, maxTime: number) {
    this.#min = minTime;
    this.#max = maxTime;
  }

  filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void> {
    for (const [id, m] of metas) {
      if (m.maxTime > this.#min && m.minTime <= this.#max) continue;
      metas.delete(id);
      ctx.count(SyncState.TimeExcluded);
    }
    return Promise.resolve();
  }
}
