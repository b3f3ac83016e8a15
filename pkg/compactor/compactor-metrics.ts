import { Counter, Gauge, type Registry } from 'prom-client';

/** CompactorMetrics are the compactor's metrics, named as Thanos names them where Thanos has one. */
export class CompactorMetrics {
  readonly iterations: Counter;
  readonly retries: Counter;
  readonly halted: Gauge;
  readonly compactions: Counter<'resolution'>;
  readonly verticalCompactions: Counter<'resolution'>;
  readonly compactionFailures: Counter<'resolution'>;
  readonly blocksMarked: Counter<'marker' | 'reason'>;
  readonly garbageCollected: Counter;
  readonly blocksCleaned: Counter;
  readonly cleanupFailures: Counter;
  readonly partialDeleteAttempts: Counter;
  readonly quarantined: Counter<'resolution' | 'reason'>;
  readonly downsamples: Counter<'resolution'>;
  readonly repairs: Counter;
  readonly downsampleFailures: Counter<'resolution'>;
  readonly quarantinedBlocks: Gauge;

  constructor(registry: Registry | undefined) {
    const registers = registry !== undefined ? [registry] : [];
    this.iterations = new Counter({ name: 'thanos_compact_iterations_total', help: 'Total number of iterations that were executed successfully.', registers });
    this.retries = new Counter({ name: 'thanos_compact_retries_total', help: 'Total number of retries after retriable compactor error.', registers });
    this.halted = new Gauge({ name: 'thanos_compact_halted', help: 'Set to 1 if the compactor halted due to an unexpected error (never: faulty groups are quarantined instead).', registers });
    this.halted.set(0);
    this.compactions = new Counter({ name: 'thanos_compact_group_compactions_total', help: 'Total number of group compaction attempts that resulted in a new block.', labelNames: ['resolution'], registers });
    this.verticalCompactions = new Counter({ name: 'thanos_compact_group_vertical_compactions_total', help: 'Total number of group compaction attempts that resulted in a new block based on overlapping blocks.', labelNames: ['resolution'], registers });
    this.compactionFailures = new Counter({ name: 'thanos_compact_group_compactions_failures_total', help: 'Total number of failed group compactions.', labelNames: ['resolution'], registers });
    this.blocksMarked = new Counter({ name: 'thanos_compact_blocks_marked_total', help: 'Total number of blocks marked in compactor.', labelNames: ['marker', 'reason'], registers });
    this.garbageCollected = new Counter({ name: 'thanos_compact_garbage_collected_blocks_total', help: 'Total number of blocks marked for deletion by compactor.', registers });
    this.blocksCleaned = new Counter({ name: 'thanos_compact_blocks_cleaned_total', help: 'Total number of blocks deleted in compactor.', registers });
    this.cleanupFailures = new Counter({ name: 'thanos_compact_block_cleanup_failures_total', help: 'Failures encountered while deleting blocks in compactor.', registers });
    this.partialDeleteAttempts = new Counter({ name: 'thanos_compact_aborted_partial_uploads_deletion_attempts_total', help: 'Total number of started deletions of blocks that are assumed aborted and only partially uploaded.', registers });
    this.quarantined = new Counter({ name: 'tessera_compact_group_quarantined_total', help: 'Compaction plans stopped by faulty blocks (corrupt, out-of-order chunks, unmergeable overlap); the blocks got a no-compact mark and the other groups went on.', labelNames: ['resolution', 'reason'], registers });
    this.repairs = new Counter({ name: 'tessera_compact_repaired_blocks_total', help: 'Blocks with out-of-order chunks rewritten in order (the original marked for deletion).', registers });
    this.downsamples = new Counter({ name: 'thanos_compact_downsample_total', help: 'Total number of downsampling attempts.', labelNames: ['resolution'], registers });
    this.downsampleFailures = new Counter({ name: 'thanos_compact_downsample_failures_total', help: 'Total number of failed downsampling attempts.', labelNames: ['resolution'], registers });
    this.quarantinedBlocks = new Gauge({ name: 'tessera_compact_no_compact_blocks', help: 'Blocks with a no-compact mark seen by the last sync.', registers });
  }
}
