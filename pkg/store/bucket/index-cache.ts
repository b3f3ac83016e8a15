import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Labels } from '../../labels/index.js';
import type { IndexChunkMeta } from '../../tsdb/index.js';
import { BlockNumbers } from './block-numbers.js';
import type { RemoteCache } from './remote-cache.js';

/**
 * DecodedSeries is a series entry of a block decoded once and kept in the index cache beside the
 * entry's bytes: its labels (without external labels), every chunk meta, and the size of the
 * encoded body (what a request holds for it in its budget). Shared by requests: never modify it.
 * withExt memoizes the labels with the block's external labels added (set by the block's users).
 */
export interface DecodedSeries {
  readonly labels: Labels;
  readonly chunks: readonly IndexChunkMeta[];
  readonly bodyBytes: number;
  withExt?: Labels;
}

/**
 * decodedSeriesSize is the memory a DecodedSeries is counted for: the objects, the label array
 * (label strings are the index-header's symbols), each chunk meta (an object whose three numbers
 * are beyond small integers, so boxed) and the LRU entry.
 */
function decodedSeriesSize(d: DecodedSeries): number {
  return ENTRY_OVERHEAD + 160 + 16 * d.labels.size + 96 * d.chunks.length;
}

/** Decoded series have numeric keys: the block's number (given in order of first use) * 2^32 + the series ref. */
const MAX_BLOCK_IDS = 1 << 20;
const REFS = 0x100000000;

/** IndexCacheOptions size the caches of an IndexCache. */
export interface IndexCacheOptions {
  /** maxBytes is the byte budget shared by postings and series entries (--index-cache-size). */
  readonly maxBytes: number;
  /** maxItemBytes: larger items are not cached in memory (default maxBytes / 2). */
  readonly maxItemBytes?: number;
  /**
   * remote, when set, is a shared cache (Redis) behind the in-memory LRU: items missing in memory
   * are looked up there (one batch per block and request), and items read from the bucket are
   * written to both. maxBytes 0 then keeps nothing in memory.
   */
  readonly remote?: RemoteCache;
  /** remoteTtlMs is the TTL of items written to the remote cache (default 24h). */
  readonly remoteTtlMs?: number;
  /** enabledItems restricts caching to these item types (Thanos's enabled_items; default all). */
  readonly enabledItems?: readonly IndexCacheItem[];
  readonly registry?: Registry;
}

/** IndexCacheItem is a cached item type (Thanos's item_type label and enabled_items values). */
export type IndexCacheItem = 'Postings' | 'Series';
type ItemType = IndexCacheItem;

/**
 * ENTRY_OVERHEAD is the memory of one cache entry beyond its bytes, counted against the budget so
 * that it bounds real memory: the Uint8Array and its ArrayBuffer, the key string's header and the
 * LRU's bookkeeping (about 200 bytes in V8; key characters count twice, UTF-16).
 */
const ENTRY_OVERHEAD = 200;

/**
 * REMOTE_PREFIX starts every key in the remote cache: a Thanos store sharing the Redis uses
 * similar keys (`S:<block>:<ref>`) for values in its own encodings.
 */
const REMOTE_PREFIX = 'tessera:index:';

/**
 * IndexCache is the store gateway's in-memory index cache: raw postings lists and series entries
 * keyed by block, in one LRU (lru-cache) bounded by a byte budget (value bytes, key and a fixed
 * per-entry overhead, so the budget bounds the memory the cache really holds).
 * Cached arrays are owned by the cache: callers must not modify them. Metrics follow Thanos's
 * `thanos_store_index_cache_*` names with an item_type label.
 */
export class IndexCache {
  readonly #lru: LRUCache<string | number, Uint8Array | DecodedSeries>;
  /** Numbers of blocks for the keys of decoded series. */
  readonly #blockIds = new BlockNumbers(MAX_BLOCK_IDS);
  readonly #maxItem: number;
  readonly #remote: RemoteCache | undefined;
  readonly #remoteTtl: number;
  readonly #enabled: ReadonlySet<ItemType>;
  /** Lookups and hits per item type not yet added to the counters (added when they are collected: #get is hot). */
  readonly #pendingRequests = new Map<ItemType, number>([
    ['Postings', 0],
    ['Series', 0],
  ]);
  readonly #pendingHits = new Map<ItemType, number>([
    ['Postings', 0],
    ['Series', 0],
  ]);
  readonly #added: Counter<'item_type'>;
  readonly #size: Gauge;

  constructor(o: IndexCacheOptions) {
    const registers = o.registry !== undefined ? [o.registry] : [];
    this.#maxItem = o.maxBytes > 0 ? (o.maxItemBytes ?? Math.floor(o.maxBytes / 2)) : 0;
    this.#remote = o.remote;
    this.#remoteTtl = o.remoteTtlMs ?? 24 * 3_600_000;
    this.#enabled = new Set(o.enabledItems ?? ['Postings', 'Series']);
    // Decoded series are set with their size; byte items are sized here.
    this.#lru = new LRUCache<string | number, Uint8Array | DecodedSeries>({
      maxSize: Math.max(1, o.maxBytes),
      sizeCalculation: (v, k) => (v as Uint8Array).length + 2 * (k as string).length + ENTRY_OVERHEAD,
    });
    const flush = (pending: Map<ItemType, number>) =>
      function (this: Counter<'item_type'>): void {
        for (const [t, n] of pending) {
          if (n > 0) this.inc({ item_type: t }, n);
          pending.set(t, 0);
        }
      };
    const requests = new Counter({ name: 'thanos_store_index_cache_requests_total', help: 'Total number of items requests to the cache.', labelNames: ['item_type'], registers, collect: flush(this.#pendingRequests) });
    const hits = new Counter({ name: 'thanos_store_index_cache_hits_total', help: 'Total number of items requests to the cache that were a hit.', labelNames: ['item_type'], registers, collect: flush(this.#pendingHits) });
    this.#added = new Counter({ name: 'thanos_store_index_cache_items_added_total', help: 'Total number of items that were added to the index cache.', labelNames: ['item_type'], registers });
    const lru = this.#lru;
    this.#size = new Gauge({
      name: 'thanos_store_index_cache_total_size_bytes',
      help: 'Current byte size of items in the index cache.',
      registers,
      collect() {
        this.set(lru.calculatedSize);
      },
    });
    for (const t of ['Postings', 'Series']) {
      requests.labels(t).inc(0);
      hits.labels(t).inc(0);
      this.#added.labels(t).inc(0);
    }
  }

  /** sizeBytes is the bytes currently held. */
  get sizeBytes(): number {
    return this.#lru.calculatedSize;
  }

  /** hasRemote tells whether misses in memory are looked up in a remote cache (fetchPostings, fetchSeries). */
  get hasRemote(): boolean {
    return this.#remote !== undefined;
  }

  #get(type: ItemType, key: string): Uint8Array | undefined {
    if (!this.#enabled.has(type)) return undefined;
    this.#pendingRequests.set(type, this.#pendingRequests.get(type)! + 1);
    const v = this.#lru.get(key) as Uint8Array | undefined;
    if (v !== undefined) this.#pendingHits.set(type, this.#pendingHits.get(type)! + 1);
    return v;
  }

  /** #seriesKey is the key of a decoded series (undefined when it has none: too many blocks, huge refs). */
  #seriesKey(block: string, ref: number): number | undefined {
    if (!(ref >= 0 && ref < REFS)) return undefined;
    const id = this.#blockIds.of(block);
    return id === undefined ? undefined : id * REFS + ref;
  }

  /**
   * getDecodedSeries returns the decoded series entry of block's series ref, if kept in memory. A
   * hit counts as a Series lookup and hit (it stands for the entry's bytes); a miss counts nothing
   * (the bytes are looked up next).
   */
  getDecodedSeries(block: string, ref: number): DecodedSeries | undefined {
    if (this.#maxItem === 0 || !this.#enabled.has('Series')) return undefined;
    const k = this.#seriesKey(block, ref);
    if (k === undefined) return undefined;
    const v = this.#lru.get(k) as DecodedSeries | undefined;
    if (v !== undefined) {
      this.#pendingRequests.set('Series', this.#pendingRequests.get('Series')! + 1);
      this.#pendingHits.set('Series', this.#pendingHits.get('Series')! + 1);
    }
    return v;
  }

  /** setDecodedSeries keeps a decoded series entry in memory (never in the remote cache). */
  setDecodedSeries(block: string, ref: number, d: DecodedSeries): void {
    if (this.#maxItem === 0 || !this.#enabled.has('Series')) return;
    const size = decodedSeriesSize(d);
    if (size > this.#maxItem) return;
    const k = this.#seriesKey(block, ref);
    if (k !== undefined) this.#lru.set(k, d, { size });
  }

  #setLocal(key: string, v: Uint8Array): void {
    if (v.length + 2 * key.length + ENTRY_OVERHEAD <= this.#maxItem) this.#lru.set(key, v);
  }

  #set(type: ItemType, key: string, v: Uint8Array): void {
    if (!this.#enabled.has(type)) return;
    this.#setLocal(key, v);
    if (this.#remote !== undefined) this.#remote.setMulti([[REMOTE_PREFIX + key, v]], this.#remoteTtl);
    this.#added.labels(type).inc();
  }

  /**
   * Looks keys (missed in memory) up in the remote cache; hits are kept in memory too and counted
   * as hits. Resolves with all misses when there is no remote cache or it fails.
   */
  async #fetch(type: ItemType, keys: string[]): Promise<(Uint8Array | undefined)[]> {
    if (this.#remote === undefined || keys.length === 0 || !this.#enabled.has(type)) return new Array<undefined>(keys.length);
    const got = await this.#remote.getMulti(keys.map((k) => REMOTE_PREFIX + k));
    let hits = 0;
    for (let i = 0; i < keys.length; i++) {
      const v = got[i];
      if (v === undefined) continue;
      hits++;
      this.#setLocal(keys[i]!, v);
    }
    this.#pendingHits.set(type, this.#pendingHits.get(type)! + hits);
    return got;
  }

  /** fetchPostings looks postings lists missed in memory up in the remote cache (undefined = miss). */
  fetchPostings(block: string, keys: readonly { name: string; value: string }[]): Promise<(Uint8Array | undefined)[]> {
    return this.#fetch(
      'Postings',
      keys.map((k) => postingsKey(block, k.name, k.value)),
    );
  }

  /** fetchSeries looks series entries missed in memory up in the remote cache (undefined = miss). */
  fetchSeries(block: string, refs: readonly number[]): Promise<(Uint8Array | undefined)[]> {
    return this.#fetch(
      'Series',
      refs.map((r) => `S:${block}:${r}`),
    );
  }

  /** getPostings returns the raw postings list (n + entries) of block's name=value, if cached. */
  getPostings(block: string, name: string, value: string): Uint8Array | undefined {
    return this.#get('Postings', postingsKey(block, name, value));
  }

  /** setPostings stores a raw postings list; the array must not change afterwards. */
  setPostings(block: string, name: string, value: string, v: Uint8Array): void {
    this.#set('Postings', postingsKey(block, name, value), v);
  }

  /** getSeries returns the series entry body of block's series ref, if cached. */
  getSeries(block: string, ref: number): Uint8Array | undefined {
    return this.#get('Series', `S:${block}:${ref}`);
  }

  /** setSeries stores a series entry body. */
  setSeries(block: string, ref: number, v: Uint8Array): void {
    this.#set('Series', `S:${block}:${ref}`, v);
  }

  /** dropBlock forgets nothing eagerly (entries age out); present for symmetry with Thanos. */
  clear(): void {
    this.#lru.clear();
    this.#size.set(0);
  }
}

function postingsKey(block: string, name: string, value: string): string {
  return `P:${block}:${name}\u0000${value}`;
}
