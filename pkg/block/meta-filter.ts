import type { BlockMeta } from '../tsdb/index.js';

/**
 * SyncState names a reason a block was (not) kept in a meta sync, the `state` label values of
 * `thanos_blocks_meta_synced`.
 */
export const SyncState = {
  Loaded: 'loaded',
  Failed: 'failed',
  NoMetaJson: 'no-meta-json',
  CorruptedMetaJson: 'corrupted-meta-json',
  LabelExcluded: 'label-excluded',
  TimeExcluded: 'time-excluded',
  MarkedForDeletion: 'marked-for-deletion',
  ParquetMigrated: 'parquet-migrated',
} as const;
export type SyncState = (typeof SyncState)[keyof typeof SyncState];

/** FilterContext is what a MetaFilter gets besides the metas. */
export interface FilterContext {
  /** count adds n blocks to a sync state (shown in `thanos_blocks_meta_synced`). */
  count(state: string, n?: number): void;
  /**
   * hasObject tells whether `<ulid>/<file>` was seen by the listing of this sync: true or false
   * when the discovery listed block contents, undefined when it only listed block directories.
   */
  hasObject(ulid: string, file: string): boolean | undefined;
  readonly signal?: AbortSignal;
}

/**
 * MetaFilter removes blocks from a sync result, Thanos's block.MetadataFilter. filter deletes
 * the entries it rejects from metas (it may not add any) and counts each under a state. Filters
 * run in order; each sees what the previous ones kept. A filter that cannot decide (an I/O error)
 * throws, and the whole sync fails and keeps its previous result.
 */
export interface MetaFilter {
  filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void>;
}
