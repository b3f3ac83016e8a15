export { COMPACTION_LEVELS, compactionLevels, planCompaction, selectOverlapping, splitByRange } from './planner.js';
export { groupBlocks, groupKey, labelSetHash, compareMinTime, resolutionName } from './group.js';
export type { CompactionGroup } from './group.js';
export { ConsistencyDelayMetaFilter, TOO_FRESH } from './consistency-delay-filter.js';
export { ReplicaLabelRemover } from './replica-label-remover.js';
export { DeduplicateFilter, DUPLICATE } from './deduplicate-filter.js';
export { BucketLease, LEASE_OBJECT } from './bucket-lease.js';
export type { BucketLeaseOptions, LeaseRecord } from './bucket-lease.js';
export { CompactorError, CompactorErrorCode } from './compactor-errors.js';
