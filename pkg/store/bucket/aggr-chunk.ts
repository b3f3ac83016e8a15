import { Aggr, xxhash64, type AggrChunk, type StoreChunk } from '../../storepb/index.js';
import { GrpcCode, StoreError } from '../store-error.js';

/** AGGR_CHUNK_ENCODING is the TSDB encoding byte of Thanos's downsampled aggregate chunks. */
export const AGGR_CHUNK_ENCODING = 0xff;

const order = [Aggr.COUNT, Aggr.SUM, Aggr.MIN, Aggr.MAX, Aggr.COUNTER] as const;
const field = { [Aggr.COUNT]: 'count', [Aggr.SUM]: 'sum', [Aggr.MIN]: 'min', [Aggr.MAX]: 'max', [Aggr.COUNTER]: 'counter' } as const;

/**
 * toAggrChunk converts a chunk record to the StoreAPI AggrChunk. Raw chunks fill `raw` (whatever
 * aggregates were asked). Aggregate chunks (encoding 0xFF, chunks.md §5) fill the requested
 * aggregates, each a sub-chunk view of data; a requested aggregate the chunk lacks is an error,
 * as in Thanos. Payloads are not copied. With hash, each (sub-)chunk gets the xxHash64 of its data
 * (Chunk.hash, which queriers use to drop identical chunks from replicas). With memo (an array owned
 * by the caller for this one chunk record, e.g. a cached chunk's), hashed StoreChunks are taken from
 * it and added to it (slot 0: raw chunk, 1..5: sub-chunks in encoding order), so a chunk served
 * again is not hashed again; the StoreChunks are then shared and must not be modified.
 */
export function toAggrChunk(encoding: number, data: Uint8Array, minTime: number, maxTime: number, aggregates: readonly number[], where: string, hash = false, memo?: (StoreChunk | undefined)[]): AggrChunk {
  if (encoding !== AGGR_CHUNK_ENCODING) {
    return { minTime, maxTime, raw: storeChunk((encoding - 1) as StoreChunk['type'], data, hash, memo, 0) };
  }
  const subs = new Map<number, StoreChunk>();
  let p = 0;
  for (let slot = 1; slot <= order.length; slot++) {
    const a = order[slot - 1]!;
    let len = 0;
    let mul = 1;
    for (;;) {
      if (p >= data.length) throw new StoreError(GrpcCode.Internal, `decode aggregate chunk ${where}: truncated at byte ${p}`);
      const b = data[p++]!;
      len += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    if (len === 0) continue;
    if (p + 1 + len > data.length) throw new StoreError(GrpcCode.Internal, `decode aggregate chunk ${where}: sub-chunk of ${len} bytes at byte ${p} runs past the end`);
    subs.set(a, storeChunk((data[p]! - 1) as StoreChunk['type'], data.subarray(p + 1, p + 1 + len), hash, memo, slot));
    p += 1 + len;
  }
  const out: { -readonly [K in keyof AggrChunk]: AggrChunk[K] } = { minTime, maxTime };
  const want = aggregates.length > 0 ? aggregates : [Aggr.COUNT, Aggr.SUM];
  for (const a of want) {
    if (a === Aggr.RAW) continue;
    const s = subs.get(a);
    if (s === undefined) throw new StoreError(GrpcCode.Internal, `decode aggregate chunk ${where}: aggregate ${a} does not exist`);
    out[field[a as keyof typeof field]] = s;
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
