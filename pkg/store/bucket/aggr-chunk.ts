import { AggrType, Encoding, findAggrSection } from '../../chunkenc/index.js';
import { Aggr, preEncodedAggrChunk, xxhash64, type AggrChunk, type StoreChunk } from '../../storepb/index.js';
import type { IndexChunkMeta } from '../../tsdb/index.js';
import type { CachedChunk } from './chunk-cache.js';
import { GrpcCode, StoreError } from '../store-error.js';

const field = { [Aggr.COUNT]: 'count', [Aggr.SUM]: 'sum', [Aggr.MIN]: 'min', [Aggr.MAX]: 'max', [Aggr.COUNTER]: 'counter' } as const;
/** StoreAPI Aggr (RAW = 0, COUNT = 1, …) to the chunk's AggrType (COUNT = 0, …). */
const aggrType = { [Aggr.COUNT]: AggrType.Count, [Aggr.SUM]: AggrType.Sum, [Aggr.MIN]: AggrType.Min, [Aggr.MAX]: AggrType.Max, [Aggr.COUNTER]: AggrType.Counter } as const;

/**
 * toAggrChunk converts a chunk record to the StoreAPI AggrChunk. Raw chunks fill `raw` (whatever
 * aggregates were asked). Aggregate chunks (encoding 0xFF, chunks.md §5, located by chunkenc's
 * findAggrSection) fill the requested aggregates, each a sub-chunk view of data; a requested
 * aggregate the chunk lacks is an error, as in Thanos. Payloads are not copied. With hash, each
 * (sub-)chunk gets the xxHash64 of its data (Chunk.hash, which queriers use to drop identical chunks
 * from replicas). With memo (an array owned by the caller for this one chunk record, e.g. a cached
 * chunk's), hashed StoreChunks are taken from it and added to it (slot 0: raw chunk, 1..5:
 * sub-chunks in encoding order), so a chunk served again is not hashed again; the StoreChunks are
 * then shared and must not be modified.
 */
export function toAggrChunk(encoding: number, data: Uint8Array, minTime: number, maxTime: number, aggregates: readonly number[], where: string, hash = false, memo?: (StoreChunk | undefined)[]): AggrChunk {
  if (encoding !== Encoding.Aggr) {
    return { minTime, maxTime, raw: storeChunk((encoding - 1) as StoreChunk['type'], data, hash, memo, 0) };
  }
  const out: { -readonly [K in keyof AggrChunk]: AggrChunk[K] } = { minTime, maxTime };
  const want = aggregates.length > 0 ? aggregates : [Aggr.COUNT, Aggr.SUM];
  for (const a of want) {
    if (a === Aggr.RAW) continue;
    const t = aggrType[a as keyof typeof aggrType];
    if (t === undefined) throw new StoreError(GrpcCode.InvalidArgument, `decode aggregate chunk ${where}: unknown aggregate ${a}`);
    let s;
    try {
      s = findAggrSection(data, t);
    } catch (err) {
      throw new StoreError(GrpcCode.Internal, `decode aggregate chunk ${where}: ${(err as Error).message}`, { cause: err });
    }
    if (s === null) throw new StoreError(GrpcCode.Internal, `decode aggregate chunk ${where}: aggregate ${a} does not exist`);
    out[field[a as keyof typeof field]] = storeChunk((s.encoding - 1) as StoreChunk['type'], s.data, hash, memo, t + 1);
  }
  return out;
}

function storeChunk(type: StoreChunk['type'], data: Uint8Array, hash: boolean, memo: (StoreChunk | undefined)[] | undefined, slot: number): StoreChunk {
  if (!hash) return { type, data, hashHi: 0, hashLo: 0 };
  const known = memo?.[slot];
  if (known !== undefined) return known;
  const h = xxhash64(data);
  const c: StoreChunk = { type, data, hashHi: h.hi, hashLo: h.lo };
  if (memo !== undefined) memo[slot] = c;
  return c;
}

/**
 * rawAggrChunk is toAggrChunk for a raw (non-aggregate) chunk held in the chunk cache, with the
 * chunk's meta: the AggrChunk is built and encoded once (preEncodedAggrChunk) and memoized on the
 * cached chunk, and the payload becomes a view of the encoded body
 * (no second copy). A chunk ref's time range never changes within a block; the memo is still only
 * used for the same time range and hashing. `aggrFor` remembers the meta object it was last checked
 * against: the same (shared) meta again needs no comparison.
 */
export function rawAggrChunk(c: CachedChunk, meta: IndexChunkMeta, hash: boolean): AggrChunk {
  if (c.aggrFor === meta && c.aggrHashed === hash) return c.aggr!;
  const m = c.aggr;
  if (m === undefined || m.minTime !== meta.minTime || m.maxTime !== meta.maxTime || c.aggrHashed !== hash) {
    const a = preEncodedAggrChunk(toAggrChunk(c.encoding, c.data, meta.minTime, meta.maxTime, [], '', hash, c.hashed));
    c.aggr = a;
    c.aggrHashed = hash;
    c.data = a.raw!.data;
  }
  c.aggrFor = meta;
  return c.aggr!;
}
