export { Head } from './head.js';
export type { HeadOptions, HeadLog, HeadChunkSeries } from './head.js';
export { MemSeries } from './mem-series.js';
export { replayWal } from './wal-replay.js';
export type { WalReplayStats, WalDamage } from './wal-replay.js';
export { Tsdb } from './tsdb.js';
export type { TsdbOptions, TsdbBlock, CompactResult, TsdbStats } from './tsdb.js';
