import { ChunkIntervalIterator } from '../dedup/index.js';
import type { AggrChunk } from '../storepb/index.js';
import { toChunk } from './aggr-iterator.js';

/**
 * ReplicaChunkIterator is a ChunkIntervalIterator over one replica's raw StoreAPI chunks (sorted,
 * non-overlapping), bounded to [mint, maxt]. Chunks must all have a raw chunk.
 */
export class ReplicaChunkIterator extends ChunkIntervalIterator {
  constructor(chunks: readonly AggrChunk[], mint: number, maxt: number) {
    super(chunks.map((c) => toChunk(c.raw!)), chunks, mint, maxt);
  }
}
