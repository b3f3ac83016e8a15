import { ValueType, XorBulkDecoder, XorChunk, type FloatSampleSink } from '../chunkenc/index.js';
import type { ChunkRange, ReplicaChunkList } from './chunk-follow-iterator.js';

/**
 * The rules ChunkFollowIterator and firstCovers share (internal to pkg/dedup): replica 0's own
 * interval at a sample, a chunk's mean interval, and whether the other replicas start late enough
 * for replica 0's first sample in a window to come first.
 */

const decoder = new XorBulkDecoder();
const probe: FloatSampleSink = { fts: new Float64Array(128), fvs: new Float64Array(128), fn: 0, sts: new Float64Array(16), sn: 0 };

/** ownDelta is DedupIterator's δ at p1: the smallest of the last three deltas and the hint (known terms). */
export function ownDelta(p1: number, p2: number, p3: number, p4: number, h: number): number {
  let d = h > 0 && h !== Infinity ? h : NaN;
  const d1 = p1 - p2;
  if (d1 < d || Number.isNaN(d)) d = d1;
  const d2 = p2 - p3;
  if (d2 < d || Number.isNaN(d)) d = d2;
  const d3 = p3 - p4;
  if (d3 < d || Number.isNaN(d)) d = d3;
  return d;
}

/** chunkMean is a chunk's mean sample interval, (maxTime − minTime) / (n − 1), NaN when unknown (as ChunkIntervalIterator). */
export function chunkMean(r: ChunkRange, n: number): number {
  return n >= 2 && r.maxTime > r.minTime ? (r.maxTime - r.minTime) / (n - 1) : NaN;
}

/**
 * othersAfter tells whether no replica but the first has a sample in [lo, bound] within [lo, hi]:
 * from chunk ranges, decoding at most the first chunk of each other replica (false when that
 * chunk cannot tell).
 */
export function othersAfter(replicas: readonly ReplicaChunkList[], lo: number, hi: number, bound: number): boolean {
  if (bound < lo) return true;
  for (let j = 1; j < replicas.length; j++) {
    const r = replicas[j]!.ranges;
    let i = 0;
    while (i < r.length && r[i]!.maxTime < lo) i++;
    const c = r[i];
    if (c === undefined || c.minTime > bound || c.minTime > hi) continue;
    // The window starts inside this chunk: its first sample there decides (not known: no shortcut).
    // XOR data as firstCovers reads it (xor(i): no chunk made), other chunks through their iterators.
    const list = replicas[j]!;
    let data = list.xor?.(i);
    if (data === undefined) {
      const chunk = list.chunk(i);
      if (!(chunk instanceof XorChunk)) {
        const it = chunk.iterator();
        if (it.seek(lo) === ValueType.None || it.atT() <= bound) return false;
        continue;
      }
      data = chunk.bytes();
    }
    probe.fn = 0;
    probe.sn = 0;
    try {
      if (decoder.decodeInto(data, lo, bound, probe) > 0) return false;
    } catch {
      return false;
    }
  }
  return true;
}
