import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StoreChunk } from '../../storepb/index.js';

/** ChunkCacheOptions size a ChunkCache. */
export interface ChunkCacheOptions {
  /** maxBytes is the byte budget of cached chunk records (--store.chunk-cache-size); must be > 0. */
  readonly maxBytes: number;
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
  readonly data: Uint8Array;
  readonly hashed: (StoreChunk | undefined)[];
}

/**
 * ENTRY_OVERHEAD is the memory of one entry beyond its payload, counted against the budget: the
 * entry object, the Uint8Array and its ArrayBuffer, the key string, the LRU's bookkeeping, and
 * the memoized StoreChunk object(s).
 */
const ENTRY_OVERHEAD = 320;

/**
 * ChunkCache is the store gateway's in-memory chunk cache: chunk records keyed by block ULID,
 * segment file and byte offset of the record (records of an uploaded block never change), in one
 * LRU (lru-cache) bounded by a byte budget. A repeated query finds its chunks here and issues no
 * ranged reads for them. Metrics follow Thanos's caching-bucket names
 * (`thanos_store_bucket_cache_*`, operation="getrange", config="chunks").
 */
export class ChunkCache {
  readonly #lru: LRUCache<string, CachedChunk>;
  readonly #requests: Counter;
  readonly #hits: Counter;

  constructor(o: ChunkCacheOptions) {
    const registers = o.registry !== undefined ? [o.registry] : [];
    this.#lru = new LRUCache<string, CachedChunk>({
      maxSize: Math.max(1, o.maxBytes),
      sizeCalculation: (v, k) => v.data.length + 2 * k.length + ENTRY_OVERHEAD,
    });
    this.#requests = new Counter({ name: 'tessera_store_chunk_cache_requests_total', help: 'Total number of chunk lookups in the chunk cache.', registers });
    this.#hits = new Counter({ name: 'tessera_store_chunk_cache_hits_total', help: 'Total number of chunk lookups in the chunk cache that were a hit.', registers });
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
    this.#requests.inc();
    const v = this.#lru.get(chunkKey(block, seg, offset));
    if (v !== undefined) this.#hits.inc();
    return v;
  }

  /** set stores a chunk record; `data` must be the cache's own copy and never change afterwards. */
  set(block: string, seg: number, offset: number, c: CachedChunk): void {
    this.#lru.set(chunkKey(block, seg, offset), c);
  }

  clear(): void {
    this.#lru.clear();
  }
}

function chunkKey(block: string, seg: number, offset: number): string {
  return `${block}/${seg}:${offset}`;
}
