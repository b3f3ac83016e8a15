import { Labels } from '../labels/index.js';
import type { BlockMeta } from '../tsdb/index.js';
import { SyncState, type FilterContext, type MetaFilter } from './meta-filter.js';
import { relabel, type RelabelConfig } from './relabel.js';

/** BLOCK_ID_LABEL is the synthetic label holding the block ULID during selector relabelling. */
export const BLOCK_ID_LABEL = '__block_id';

/**
 * LabelShardedMetaFilter applies `--selector.relabel-config` to each block's external labels
 * (thanos.labels plus `__block_id` = the ULID) and drops the blocks the rules drop (keep/drop,
 * hashmod sharding, ...). Blocks without a thanos section have no external labels.
 */
export class LabelShardedMetaFilter implements MetaFilter {
  readonly #rules: readonly RelabelConfig[];

  constructor(rules: readonly RelabelConfig[]) {
    this.#rules = rules;
  }

  filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void> {
    if (this.#rules.length === 0) return Promise.resolve();
    for (const [id, m] of metas) {
      const ls = Labels.fromRecord({ ...(m.thanos?.labels ?? {}), [BLOCK_ID_LABEL]: id });
      if (relabel(ls, this.#rules) !== undefined) continue;
      metas.delete(id);
      ctx.count(SyncState.LabelExcluded);
    }
    return Promise.resolve();
  }
}
