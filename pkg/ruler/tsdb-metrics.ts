import { Counter, Gauge, type Registry } from 'prom-client';
import type { TsdbStats } from '../tsdb/index.js';

/**
 * registerTsdbMetrics exposes the ruler's TSDB on /metrics under Prometheus's names
 * (prometheus_tsdb_*), read from stats() at every scrape.
 */
export function registerTsdbMetrics(registry: Registry, stats: () => TsdbStats): void {
  const registers = [registry];
  const gauge = (name: string, help: string, value: (s: TsdbStats) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const v = value(stats());
        this.set(Number.isFinite(v) ? v : 0);
      },
    });
  };
  const counter = (name: string, help: string, value: (s: TsdbStats) => number): void => {
    let reported = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const v = value(stats());
        if (v > reported) this.inc(v - reported);
        reported = Math.max(reported, v);
      },
    });
  };
  gauge('prometheus_tsdb_head_series', 'Total number of series in the head block.', (s) => s.headSeries);
  counter('prometheus_tsdb_head_samples_appended_total', 'Total number of appended samples.', (s) => s.headSamplesAppended);
  gauge('prometheus_tsdb_head_min_time', 'Minimum time bound of the head block (ms).', (s) => s.headMinTime);
  gauge('prometheus_tsdb_head_max_time', 'Maximum timestamp of the head block (ms).', (s) => s.headMaxTime);
  gauge('prometheus_tsdb_blocks_loaded', 'Number of currently loaded data blocks.', (s) => s.blocks);
  counter('prometheus_tsdb_compactions_total', 'Total number of compactions (head cut into a block).', (s) => s.compactions);
  counter('prometheus_tsdb_compactions_failed_total', 'Total number of compactions that failed.', (s) => s.compactionFailures);
  counter('prometheus_tsdb_time_retentions_total', 'The number of times that blocks were deleted because the maximum time limit was exceeded.', (s) => s.blocksDeletedByRetention);
  counter('prometheus_tsdb_checkpoint_creations_total', 'Total number of checkpoint creations attempted.', (s) => s.checkpoints);
  counter('prometheus_tsdb_wal_corruptions_total', 'Total number of WAL corruptions.', (s) => s.walCorruptions);
}
