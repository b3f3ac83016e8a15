import type { FilterContext, MetaFilter } from '../block/index.js';
import type { BlockMeta } from '../tsdb/index.js';

/**
 * ReplicaLabelRemover deletes the deduplication replica labels from every block's
 * thanos.labels (algorithms.md §1.5), so the blocks of all replicas fall into one compaction
 * group; a block left without labels gets `<first replica label>="deduped"`. Metas are replaced
 * by copies, never modified in place (the fetcher caches them).
 */
export class ReplicaLabelRemover implements MetaFilter {
  readonly #labels: readonly string[];

  constructor(replicaLabels: readonly string[]) {
    this.#labels = replicaLabels;
  }

  filter(metas: Map<string, BlockMeta>, _ctx: FilterContext): Promise<void> {
    const first = this.#labels[0];
    if (first === undefined) return Promise.resolve();
    for (const [id, m] of metas) {
      const labels = { ...(m.thanos?.labels ?? {}) };
      for (const l of this.#labels) delete labels[l];
      if (Object.keys(labels).length === 0) labels[first] = 'deduped';
      const thanos = m.thanos ?? { labels: {}, downsample: { resolution: 0 }, source: '', index_stats: {} };
      metas.set(id, { ...m, thanos: { ...thanos, labels } });
    }
    return Promise.resolve();
  }
}
