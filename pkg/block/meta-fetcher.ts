import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { runLimited, type BucketReader } from '../objstore/index.js';
import { META_FILENAME, formatBlockMeta, isUlid, parseBlockMeta, type BlockMeta } from '../tsdb/index.js';

/** SNAPSHOT_FILENAME is the metas snapshot under cacheDir. */
const SNAPSHOT_FILENAME = 'metas.json';
import { type Logger, nopLogger } from './logger.js';
import { SyncState, type FilterContext, type MetaFilter } from './meta-filter.js';

/** Options of a MetaFetcher. */
export interface MetaFetcherOptions {
  readonly bucket: BucketReader;
  /** filters run in order over every sync result. */
  readonly filters?: readonly MetaFilter[];
  /** concurrency of meta.json reads (default 32, Thanos's --block-meta-fetch-concurrency). */
  readonly concurrency?: number;
  /**
   * cacheDir, when set, keeps the metas read (meta.json is immutable) in one snapshot file,
   * `<cacheDir>/metas.json`, written in the background after a sync learned new metas; a restart
   * reads that one file instead of every meta.json from the bucket.
   */
  readonly cacheDir?: string;
  /**
   * discovery: 'recursive' (default) lists the whole bucket once and learns which blocks have a
   * meta.json and markers from the listing; 'concurrent' lists block directories only and probes
   * each meta.json.
   */
  readonly discovery?: 'recursive' | 'concurrent';
  readonly registry?: Registry;
  readonly logger?: Logger;
}

/** FetchResult is one sync: the kept metas, and the blocks whose meta.json could not be used. */
export interface FetchResult {
  /** metas are the blocks kept after all filters, by ULID. */
  readonly metas: ReadonlyMap<string, BlockMeta>;
  /** partial maps ULIDs with a missing or corrupt meta.json to the reason. */
  readonly partial: ReadonlyMap<string, Error>;
  /** states counts the blocks of this sync by SyncState. */
  readonly states: ReadonlyMap<string, number>;
}

class MetaFetcherMetrics {
  readonly syncs: Counter;
  readonly failures: Counter;
  readonly duration: Histogram;
  readonly synced: Gauge<'state'>;
  constructor(registry: Registry | undefined) {
    const registers = registry !== undefined ? [registry] : [];
    this.syncs = new Counter({ name: 'thanos_blocks_meta_syncs_total', help: 'Total blocks metadata synchronization attempts', registers });
    this.failures = new Counter({ name: 'thanos_blocks_meta_sync_failures_total', help: 'Total blocks metadata synchronization failures', registers });
    this.duration = new Histogram({
      name: 'thanos_blocks_meta_sync_duration_seconds',
      help: 'Duration of the blocks metadata synchronization in seconds',
      buckets: [0.01, 1, 10, 100, 300, 600, 1000],
      registers,
    });
    this.synced = new Gauge({ name: 'thanos_blocks_meta_synced', help: 'Number of block metadata synced', labelNames: ['state'], registers });
    for (const s of Object.values(SyncState)) this.synced.labels(s).set(0);
  }
}

/**
 * MetaFetcher lists the blocks of a bucket and reads their meta.json, Thanos's block.MetaFetcher.
 * A block directory without meta.json (an upload in progress, or a partial delete) or with a
 * meta.json that does not parse is skipped, logged at the first sighting and counted under
 * `no-meta-json` / `corrupted-meta-json`. Parsed metas are cached in memory (and in a snapshot
 * file in cacheDir), so each meta.json is read from the bucket once, also across restarts.
 * fetch() is safe to call concurrently; concurrent calls share one sync.
 */
export class MetaFetcher {
  readonly #o: MetaFetcherOptions;
  readonly #m: MetaFetcherMetrics;
  readonly #logger: Logger;
  readonly #cache = new Map<string, BlockMeta>();
  readonly #reported = new Set<string>();
  #running: Promise<FetchResult> | undefined;
  #snapshotLoaded = false;
  #dirty = false;
  #persisting: Promise<void> = Promise.resolve();

  constructor(opts: MetaFetcherOptions) {
    this.#o = opts;
    this.#m = new MetaFetcherMetrics(opts.registry);
    this.#logger = opts.logger ?? nopLogger;
  }

  /** fetch runs one sync (or joins the running one). Rejects on listing or filter I/O errors. */
  fetch(signal?: AbortSignal): Promise<FetchResult> {
    if (this.#running !== undefined) return this.#running;
    const p = this.#fetch(signal).finally(() => {
      this.#running = undefined;
    });
    this.#running = p;
    return p;
  }

  async #fetch(signal: AbortSignal | undefined): Promise<FetchResult> {
    const start = performance.now();
    this.#m.syncs.inc();
    try {
      const res = await this.#sync(signal);
      this.#m.duration.observe((performance.now() - start) / 1000);
      return res;
    } catch (err) {
      this.#m.failures.inc();
      throw err;
    }
  }

  /** flush waits until the metas snapshot of the last sync is written (if any). */
  async flush(): Promise<void> {
    await this.#persisting;
  }

  /** Loads the metas snapshot of an earlier run into the in-memory cache (once). */
  async #loadSnapshot(): Promise<void> {
    if (this.#snapshotLoaded || this.#o.cacheDir === undefined) return;
    this.#snapshotLoaded = true;
    const path = join(this.#o.cacheDir, SNAPSHOT_FILENAME);
    let snap: Record<string, string>;
    try {
      snap = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    } catch {
      return; // None yet, or unreadable: metas are read from the bucket.
    }
    for (const [id, text] of Object.entries(snap)) {
      try {
        const m = parseBlockMeta(text, path);
        if (m.ulid === id) this.#cache.set(id, m);
      } catch {
        // A broken entry is read from the bucket again.
      }
    }
  }

  /** Writes the metas snapshot in the background (one write at a time; errors are logged). */
  #persist(): void {
    const dir = this.#o.cacheDir;
    if (dir === undefined || !this.#dirty) return;
    this.#dirty = false;
    const snap: Record<string, string> = {};
    for (const [id, m] of this.#cache) snap[id] = formatBlockMeta(m);
    const path = join(dir, SNAPSHOT_FILENAME);
    this.#persisting = this.#persisting.then(async () => {
      try {
        await mkdir(dir, { recursive: true });
        await writeFile(`${path}.tmp`, JSON.stringify(snap));
        await rename(`${path}.tmp`, path);
      } catch (err) {
        this.#logger.warn('write meta.json cache snapshot', { path, err });
      }
    });
  }

  async #sync(signal: AbortSignal | undefined): Promise<FetchResult> {
    await this.#loadSnapshot();
    const bkt = this.#o.bucket;
    const recursive = (this.#o.discovery ?? 'recursive') === 'recursive';
    const objects = new Map<string, Set<string>>();
    const iterOpts = signal !== undefined ? { signal } : {};
    if (recursive) {
      for await (const name of bkt.iter('', { ...iterOpts, recursive: true })) {
        const slash = name.indexOf('/');
        if (slash < 0) continue;
        const id = name.slice(0, slash);
        if (!isUlid(id)) continue;
        let set = objects.get(id);
        if (set === undefined) objects.set(id, (set = new Set()));
        set.add(name.slice(slash + 1));
      }
    } else {
      for await (const name of bkt.iter('', iterOpts)) {
        const id = name.replace(/\/$/, '');
        if (name.endsWith('/') && isUlid(id)) objects.set(id, new Set());
      }
    }
    const states = new Map<string, number>();
    const count = (state: string, n = 1): void => {
      states.set(state, (states.get(state) ?? 0) + n);
    };
    const metas = new Map<string, BlockMeta>();
    const partial = new Map<string, Error>();
    const ids = [...objects.keys()].sort();
    await runLimited(ids, this.#o.concurrency ?? 32, async (id) => {
      if (recursive && !objects.get(id)!.has(META_FILENAME)) {
        partial.set(id, new Error(`block ${id} has no ${META_FILENAME}`));
        count(SyncState.NoMetaJson);
        return;
      }
      const r = await this.#loadMeta(id, signal);
      if (r instanceof Error) {
        partial.set(id, r);
        count((r as Error & { state?: string }).state ?? SyncState.CorruptedMetaJson);
        return;
      }
      metas.set(id, r);
    });
    for (const [id, err] of partial) {
      if (this.#reported.has(id)) continue;
      this.#reported.add(id);
      this.#logger.warn('skipping block with unusable meta.json', { block: id, err });
    }
    const ctx: FilterContext = {
      count,
      hasObject: (id, file) => (recursive ? (objects.get(id)?.has(file) ?? false) : undefined),
      ...(signal !== undefined ? { signal } : {}),
    };
    for (const f of this.#o.filters ?? []) await f.filter(metas, ctx);
    count(SyncState.Loaded, metas.size);
    this.#m.synced.reset();
    for (const s of Object.values(SyncState)) this.#m.synced.labels(s).set(states.get(s) ?? 0);
    for (const [s, n] of states) this.#m.synced.labels(s).set(n);
    // Forget cached metas of blocks that are gone from the bucket.
    for (const id of this.#cache.keys()) {
      if (!objects.has(id)) {
        this.#cache.delete(id);
        this.#dirty = true;
      }
    }
    this.#persist();
    return { metas, partial, states };
  }

  /** Returns the parsed meta of id, or an Error tagged with the sync state to count it under. */
  async #loadMeta(id: string, signal: AbortSignal | undefined): Promise<BlockMeta | Error> {
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    const name = `${id}/${META_FILENAME}`;
    let text: string;
    try {
      text = new TextDecoder().decode(await this.#o.bucket.get(name, signal !== undefined ? { signal } : {}));
    } catch (err) {
      if (this.#o.bucket.isObjNotFoundErr(err)) return Object.assign(new Error(`read ${name}: not found`, { cause: err }), { state: SyncState.NoMetaJson });
      throw err;
    }
    let meta: BlockMeta;
    try {
      meta = parseBlockMeta(text, name);
    } catch (err) {
      return Object.assign(err as Error, { state: SyncState.CorruptedMetaJson });
    }
    if (meta.ulid !== id) {
      return Object.assign(new Error(`validate ${name}: ulid ${meta.ulid} differs from the block directory ${id}`), { state: SyncState.CorruptedMetaJson });
    }
    this.#cache.set(id, meta);
    this.#dirty = true;
    return meta;
  }
}
