import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AggrChunk, StoreChunk } from '../../storepb/index.js';
import type { IndexChunkMeta } from '../../tsdb/index.js';
import { BlockNumbers } from './block-numbers.js';
import type { RemoteCache } from './remote-cache.js';

/** ChunkCacheOptions size a ChunkCache. */
export interface ChunkCacheOptions {
  /** maxBytes is the byte budget of cached chunk records in memory (--store.chunk-cache-size; 0 only with a remote cache). */
  readonly maxBytes: number;
  /**
   * remote, when set, is a shared cache (Redis, --store.caching-bucket.config) behind the LRU:
   * chunks missing in memory are looked up there in one batch per block and request, and chunks
   * read from the bucket are written to both. A remote value is the encoding byte, then the data.
   */
  readonly remote?: RemoteCache;
  /** remoteTtlMs is the TTL of chunks written to the remote cache (chunk_subrange_ttl, default 24h). */
  readonly remoteTtlMs?: number;
  readonly registry?: Registry;
}

/**
 * CachedChunk is one chunk record held by the ChunkCache: TSDB encoding byte, its own copy of the
 * payload, and `hashed`, the StoreChunk(s) with xxHash64 built from it on first use (slot 0: raw
 * chunk, slots 1..5: the sub-chunks of an aggregate chunk), so each chunk is hashed once while it
 * stays cached. All of it is owned by the cache and shared by requests: never modify it.
 */
export interface CachedChunk {
  readonly encoding: number;
  /** data is the payload; rawAggrChunk re-points it (same bytes) into the memoized AggrChunk's encoded body. */
  data: Uint8Array;
  readonly hashed: (StoreChunk | undefined)[];
  /**
   * aggr memoizes the AggrChunk of a raw (non-aggregate) chunk with its encoded body (see
   * rawAggrChunk): a chunk sent again is neither rebuilt nor encoded field by field again.
   */
  aggr?: AggrChunk | undefined;
  /**
   * aggrFor is the chunk meta aggr was last checked against, aggrHashed whether aggr is hashed: read
   * from this object alone when the chunk is served again. Like aggr, created with the chunk (so that
   * they stay in the object).
   */
  aggrFor?: IndexChunkMeta | undefined;
  aggrHashed?: boolean;
}

/**
 * ENTRY_OVERHEAD is the memory of one entry beyond its payload, counted against the budget: the
 * entry object, the Uint8Array and its ArrayBuffer, the key string, the LRU's bookkeeping, and
 * the memoized StoreChunk object(s).
 */
const ENTRY_OVERHEAD = 320;

/**
 * In memory, a chunk's key is a number when it fits: the block's number (given in order of first
 * use, at most MAX_BLOCK_IDS of them), then the segment (below SEGMENTS), then the offset (32 bits),
 * below 2^53. Looking a number up costs far less than building and hashing a string key for each
 * of the tens of thousands of chunks of a query. Other chunks (more blocks seen in the process's
 * life, more segments) keep the string key `block/segment:offset`; the two kinds never collide.
 * The size counted for an entry is that of the string key either way.
 */
const SEGMENTS = 64;
const MAX_BLOCK_IDS = 1 << 15;
const OFFSETS = 0x100000000;

/** REMOTE_PREFIX starts every key of chunks in the remote cache (kept apart from other users of the Redis). */
const REMOTE_PREFIX = 'tessera:chunk:';

/**
 * ChunkCache is the store gateway's in-memory chunk cache: chunk records keyed by block ULID,
 * segment file and byte offset of the record (records of an uploaded block never change), in one
 * LRU (lru-cache) bounded by a byte budget. A repeated query finds its chunks here and issues no
 * ranged reads for them. Metrics follow Thanos's caching-bucket names
 * (`thanos_store_bucket_cache_*`, operation="getrange", config="chunks").
 */
export class ChunkCache {
  readonly #lru: LRUCache<number | string, CachedChunk>;
  /** Numbers of blocks for numeric keys (see SEGMENTS). */
  readonly #blockIds = new BlockNumbers(MAX_BLOCK_IDS);
  /** Lookups and hits not yet added to the counters (added when they are collected: get() is hot). */
  readonly #pending = { requests: 0, hits: 0 };
  readonly #remote: RemoteCache | undefined;
  readonly #remoteTtl: number;
  readonly #local: boolean;

  constructor(o: ChunkCacheOptions) {
    const registers = o.registry !== undefined ? [o.registry] : [];
    this.#remote = o.remote;
    this.#remoteTtl = o.remoteTtlMs ?? 24 * 3_600_000;
    this.#local = o.maxBytes > 0;
    // Sizes are given with each set (entrySize), as if every key were the string one.
    this.#lru = new LRUCache<number | string, CachedChunk>({ maxSize: Math.max(1, o.maxBytes) });
    const pending = this.#pending;
    new Counter({
      name: 'tessera_store_chunk_cache_requests_total',
      help: 'Total number of chunk lookups in the chunk cache.',
      registers,
      collect() {
        if (pending.requests > 0) this.inc(pending.requests);
        pending.requests = 0;
      },
    });
    new Counter({
      name: 'tessera_store_chunk_cache_hits_total',
      help: 'Total number of chunk lookups in the chunk cache that were a hit.',
      registers,
      collect() {
        if (pending.hits > 0) this.inc(pending.hits);
        pending.hits = 0;
      },
    });
    const lru = this.#lru;
    new Gauge({
      name: 'tessera_store_chunk_cache_size_bytes',
      help: 'Current byte size of the chunk cache (payloads plus per-entry overhead).',
      registers,
      collect() {
        this.set(lru.calculatedSize);
      },
    });
    new Gauge({
      name: 'tessera_store_chunk_cache_items',
      help: 'Current number of chunks in the chunk cache.',
      registers,
      collect() {
        this.set(lru.size);
      },
    });
  }

  /** sizeBytes is the budget currently used. */
  get sizeBytes(): number {
    return this.#lru.calculatedSize;
  }

  /** items is the number of cached chunks. */
  get items(): number {
    return this.#lru.size;
  }

  /** get returns the chunk record at offset of segment seg of block, if cached. */
  get(block: string, seg: number, offset: number): CachedChunk | undefined {
    this.#pending.requests++;
    const v = this.#lru.get(this.#key(block, seg, offset));
    if (v !== undefined) this.#pending.hits++;
    return v;
  }

  /** set stores a chunk record; `data` must be the cache's own copy and never change afterwards. */
  set(block: string, seg: number, offset: number, c: CachedChunk): void {
    const key = chunkKey(block, seg, offset);
    if (this.#local) this.#lru.set(this.#key(block, seg, offset), c, { size: entrySize(c, key) });
    if (this.#remote !== undefined) {
      const v = new Uint8Array(1 + c.data.length);
      v[0] = c.encoding;
      v.set(c.data, 1);
      this.#remote.setMulti([[REMOTE_PREFIX + key, v]], this.#remoteTtl);
    }
  }

  /** hasRemote tells whether misses in memory are looked up in a remote cache (fetch). */
  get hasRemote(): boolean {
    return this.#remote !== undefined;
  }

  /**
   * fetch looks chunk records missed in memory (segment, offset pairs of block) up in the remote
   * cache; hits are kept in memory too and counted. All misses without a remote cache or when it fails.
   */
  async fetch(block: string, locs: readonly { seg: number; off: number }[]): Promise<(CachedChunk | undefined)[]> {
    const out = new Array<CachedChunk | undefined>(locs.length);
    if (this.#remote === undefined || locs.length === 0) return out;
    const keys = locs.map((l) => chunkKey(block, l.seg, l.off));
    const got = await this.#remote.getMulti(keys.map((k) => REMOTE_PREFIX + k));
    let hits = 0;
    for (let i = 0; i < keys.length; i++) {
      const v = got[i];
      if (v === undefined || v.length < 1) continue;
      // Its own copy: the value may be a view into a larger reply buffer.
      const c: CachedChunk = { encoding: v[0]!, data: v.slice(1), hashed: [], aggr: undefined, aggrFor: undefined, aggrHashed: false };
      if (this.#local) this.#lru.set(this.#key(block, locs[i]!.seg, locs[i]!.off), c, { size: entrySize(c, keys[i]!) });
      out[i] = c;
      hits++;
    }
    this.#pending.hits += hits;
    return out;
  }

  clear(): void {
    this.#lru.clear();
  }

  /** #key is the in-memory key of a chunk: a number when it fits (see SEGMENTS), else the string key. */
  #key(block: string, seg: number, offset: number): number | string {
    const id = this.#blockIds.of(block);
    if (id === undefined) return chunkKey(block, seg, offset);
    if (seg >= SEGMENTS || seg < 0 || offset >= OFFSETS || offset < 0) return chunkKey(block, seg, offset);
    return (id * SEGMENTS + seg) * OFFSETS + offset;
  }
}

/** entrySize is the budget an entry takes: payload, string key (2 bytes a character), overhead. */
function entrySize(c: CachedChunk, key: string): number {
  return c.data.length + 2 * key.length + ENTRY_OVERHEAD;
}

function chunkKey(block: string, seg: number, offset: number): string {
  return `${block}/${seg}:${offset}`;
}
