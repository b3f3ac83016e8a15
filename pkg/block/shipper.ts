import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Bucket } from '../objstore/index.js';
import type { Labels } from '../labels/index.js';
import { parseBlockMeta, type BlockMeta } from '../tsdb/index.js';
import { BlockErrorCode, ThanosBlockError } from './block-errors.js';
import type { HashFunc } from './file-hash.js';
import { nopLogger, type Logger } from './logger.js';
import { readShipperState, writeShipperState } from './shipper-state.js';
import { uploadBlock } from './upload.js';

/** ShipperOptions configures a Shipper. */
export interface ShipperOptions {
  /** bucket receives the blocks at `<ULID>/…`. */
  readonly bucket: Bucket;
  /** dir is Prometheus's TSDB directory (`--tsdb.path`); the shipper only reads it (and writes its state file). */
  readonly dir: string;
  /** stateFile records shipped ULIDs (default `<dir>/thanos.shipper.json`, where Thanos keeps it). */
  readonly stateFile?: string;
  /** externalLabels returns the labels written into every uploaded meta.json; must be non-empty. */
  readonly externalLabels: () => Labels;
  /** uploadCompacted also ships blocks of compaction level > 1 (`--shipper.upload-compacted`). */
  readonly uploadCompacted?: boolean;
  /** source is meta.json's `thanos.source` (default `sidecar`). */
  readonly source?: string;
  /** concurrency is how many blocks upload at the same time (default 2). */
  readonly concurrency?: number;
  /** fileConcurrency is how many chunk files of one block upload at the same time (`--shipper.upload-concurrency`; default 1). */
  readonly fileConcurrency?: number;
  /** hashFunc records a SHA-256 per file in meta.json's `thanos.files` (`--hash-func`; default 'none'). */
  readonly hashFunc?: HashFunc;
  /** minBackoffMs / maxBackoffMs bound the per-block retry delay after a failed upload (default 1 s / 5 min). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** now is the clock used for backoff and `thanos.upload_time` (default Date.now). */
  readonly now?: () => number;
}

/** SyncResult summarises one Shipper.sync pass. */
export interface SyncResult {
  /** uploaded counts blocks shipped in this pass (including ones found already complete in the bucket). */
  readonly uploaded: number;
  /** failed counts blocks whose upload failed in this pass (they are retried after a backoff). */
  readonly failed: number;
  /** waiting counts eligible blocks not attempted in this pass: in backoff, or being uploaded by an earlier pass. */
  readonly waiting: number;
}

/** BlockCandidate is a completed local block that may be shipped. */
interface BlockCandidate {
  readonly ulid: string;
  readonly meta: BlockMeta;
  readonly minTime: number;
}

const ulidRe = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

/** isULID reports whether name is a canonical (upper-case) ULID string. */
export function isULID(name: string): boolean {
  return ulidRe.test(name);
}

/**
 * Shipper uploads completed Prometheus blocks to object storage, as Thanos's shipper does. The
 * sidecar ships Prometheus's blocks with it (source `sidecar`), the ruler its own (source `ruler`).
 *
 * A block is shipped when its directory has a ULID name and a parsable meta.json (Prometheus
 * writes blocks into `*.tmp-for-creation` and renames them, so such a directory is complete), it
 * has samples, its compaction level is 1 (or any level with `uploadCompacted`), it is not in the
 * state file and its meta.json is not already in the bucket. Upload order is chunks, index, then
 * meta.json with the Thanos section, so a block becomes visible only once complete. Shipped ULIDs
 * are recorded in the state file, written atomically after each upload.
 *
 * Failed uploads are retried with exponential backoff per block while other blocks keep shipping;
 * a slow upload occupies one of `concurrency` slots and never stops the others. The shipper never
 * modifies or deletes anything of Prometheus's in `dir`.
 */
export class Shipper {
  readonly #bucket: Bucket;
  readonly #dir: string;
  readonly #stateFile: string;
  readonly #externalLabels: () => Labels;
  readonly #uploadCompacted: boolean;
  readonly #source: string;
  readonly #concurrency: number;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #upload: { readonly concurrency?: number; readonly hashFunc?: HashFunc };
  #uploaded: Set<string> | undefined;
  readonly #inflight = new Map<string, Promise<boolean>>();
  readonly #backoff = new Map<string, { failures: number; next: number }>();
  #stateWrite: Promise<void> = Promise.resolve();

  readonly #m: {
    syncs: Counter;
    syncFailures: Counter;
    uploads: Counter;
    uploadFailures: Counter;
    lastUpload: Gauge;
  };

  constructor(opts: ShipperOptions) {
    this.#bucket = opts.bucket;
    this.#dir = opts.dir;
    this.#stateFile = opts.stateFile ?? join(opts.dir, 'thanos.shipper.json');
    this.#externalLabels = opts.externalLabels;
    this.#uploadCompacted = opts.uploadCompacted ?? false;
    this.#source = opts.source ?? 'sidecar';
    this.#concurrency = Math.max(1, opts.concurrency ?? 2);
    this.#upload = {
      ...(opts.fileConcurrency !== undefined ? { concurrency: Math.max(1, opts.fileConcurrency) } : {}),
      ...(opts.hashFunc !== undefined ? { hashFunc: opts.hashFunc } : {}),
    };
    this.#minBackoff = opts.minBackoffMs ?? 1000;
    this.#maxBackoff = opts.maxBackoffMs ?? 300_000;
    this.#logger = opts.logger ?? nopLogger;
    this.#now = opts.now ?? Date.now;
    const registers = [opts.registry ?? new Registry()];
    this.#m = {
      syncs: new Counter({ name: 'thanos_shipper_dir_syncs_total', help: 'Total number of dir syncs', registers }),
      syncFailures: new Counter({ name: 'thanos_shipper_dir_sync_failures_total', help: 'Total number of failed dir syncs', registers }),
      uploads: new Counter({ name: 'thanos_shipper_uploads_total', help: 'Total number of uploaded blocks', registers }),
      uploadFailures: new Counter({ name: 'thanos_shipper_upload_failures_total', help: 'Total number of block upload failures', registers }),
      lastUpload: new Gauge({ name: 'thanos_shipper_last_successful_upload_time', help: 'Unix timestamp (in seconds) of the last successful upload', registers }),
    };
  }

  /** uploadedBlocks returns the ULIDs known as shipped (after the first sync). */
  uploadedBlocks(): string[] {
    return [...(this.#uploaded ?? [])].sort();
  }

  /**
   * sync scans the directory once and uploads every eligible block (blocks in backoff or being
   * uploaded by an earlier, still running pass are skipped), `concurrency` at a time, returning
   * when this pass's uploads are done.
   * Upload failures are counted and logged, not thrown; a failure to list the directory throws.
   */
  async sync(signal?: AbortSignal): Promise<SyncResult> {
    this.#m.syncs.inc();
    let candidates: BlockCandidate[];
    try {
      if (this.#uploaded === undefined) {
        const st = await readShipperState(this.#stateFile, (err) => this.#logger.warn('shipper state file is corrupt; re-checking blocks against the bucket', { err }));
        this.#uploaded = new Set(st.uploaded);
      }
      candidates = await this.#scan();
    } catch (err) {
      this.#m.syncFailures.inc();
      throw err;
    }
    const uploaded = this.#uploaded;
    // Forget shipped blocks Prometheus has deleted (retention), as Thanos does.
    const present = new Set(candidates.map((c) => c.ulid));
    let pruned = false;
    for (const u of uploaded) {
      if (!present.has(u) && !this.#inflight.has(u) && (await this.#dirGone(u))) {
        uploaded.delete(u);
        pruned = true;
      }
    }
    if (pruned) await this.#persist();

    const now = this.#now();
    const queue: BlockCandidate[] = [];
    let waiting = 0;
    for (const c of candidates) {
      if (uploaded.has(c.ulid)) continue;
      const bo = this.#backoff.get(c.ulid);
      if (this.#inflight.has(c.ulid) || (bo !== undefined && bo.next > now)) waiting++;
      else queue.push(c);
    }
    // A pool of `concurrency` workers takes blocks in minTime order; a slow block holds one worker.
    let ok = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
        if (this.#inflight.has(c.ulid) || uploaded.has(c.ulid)) continue;
        const p = this.#ship(c, signal);
        this.#inflight.set(c.ulid, p);
        try {
          if (await p) ok++;
          else failed++;
        } finally {
          this.#inflight.delete(c.ulid);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, queue.length) }, worker));
    return { uploaded: ok, failed, waiting };
  }

  /**
   * run starts a sync every intervalMs until signal aborts, then waits for running uploads.
   * A pass does not wait for a slow upload of an earlier pass (that block is skipped meanwhile).
   */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    const passes = new Set<Promise<unknown>>();
    while (!signal.aborted) {
      const p = this.sync(signal).catch((err: unknown) => {
        if (!signal.aborted) this.#logger.warn('shipper sync', { err });
      });
      passes.add(p);
      void p.finally(() => passes.delete(p));
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, intervalMs);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    await Promise.allSettled([...passes]);
  }

  async #dirGone(ulid: string): Promise<boolean> {
    try {
      await readdir(join(this.#dir, ulid));
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT';
    }
  }

  async #scan(): Promise<BlockCandidate[]> {
    let entries;
    try {
      entries = await readdir(this.#dir, { withFileTypes: true });
    } catch (err) {
      throw new ThanosBlockError(BlockErrorCode.ShipperUpload, `list TSDB directory ${this.#dir}`, { cause: err });
    }
    const out: BlockCandidate[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || !isULID(e.name)) continue;
      const metaPath = join(this.#dir, e.name, 'meta.json');
      let text: string;
      try {
        text = await readFile(metaPath, 'utf8');
        JSON.parse(text);
      } catch (err) {
        // Missing or half-written meta.json: not a completed block (yet).
        this.#logger.debug('skipping block without a readable meta.json', { block: e.name, err });
        continue;
      }
      let meta: BlockMeta;
      try {
        meta = parseBlockMeta(text, metaPath);
      } catch (err) {
        this.#logger.warn('skipping block with an unusable meta.json', { block: e.name, problem: (err as Error).message });
        continue;
      }
      if (meta.ulid !== e.name) {
        this.#logger.warn('skipping block with an unusable meta.json', { block: e.name, problem: `ulid ${meta.ulid} does not match the directory name` });
        continue;
      }
      if (!((meta.stats.numSamples ?? 0) > 0)) continue;
      if (meta.compaction.level > 1 && !this.#uploadCompacted) continue;
      out.push({ ulid: e.name, meta, minTime: meta.minTime });
    }
    out.sort((a, b) => a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : 1));
    return out;
  }

  async #ship(c: BlockCandidate, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      if (await this.#bucket.exists(`${c.ulid}/meta.json`, signal ? { signal } : {})) {
        this.#logger.info('block already in the bucket; recording it as uploaded', { block: c.ulid });
      } else {
        await this.#uploadBlock(c, signal);
        this.#m.uploads.inc();
        this.#m.lastUpload.set(this.#now() / 1000);
        this.#logger.info('uploaded block', { block: c.ulid, minTime: c.minTime });
      }
      this.#backoff.delete(c.ulid);
      this.#uploaded!.add(c.ulid);
      await this.#persist();
      return true;
    } catch (err) {
      this.#m.uploadFailures.inc();
      const prev = this.#backoff.get(c.ulid)?.failures ?? 0;
      const delay = Math.min(this.#maxBackoff, this.#minBackoff * 2 ** prev);
      this.#backoff.set(c.ulid, { failures: prev + 1, next: this.#now() + delay });
      this.#logger.warn('upload of block; retrying later', { block: c.ulid, attempt: prev + 1, retryInMs: delay, err });
      return false;
    }
  }

  #persist(): Promise<void> {
    const next = this.#stateWrite.then(() => writeShipperState(this.#stateFile, { version: 1, uploaded: [...this.#uploaded!].sort() }));
    // Keep the chain alive after a failure; the caller still sees its own error.
    this.#stateWrite = next.catch(() => {});
    return next;
  }

  async #uploadBlock(c: BlockCandidate, signal: AbortSignal | undefined): Promise<void> {
    const ext = this.#externalLabels();
    if (ext.isEmpty()) throw new ThanosBlockError(BlockErrorCode.ShipperConfig, `upload block ${c.ulid}: no external labels configured`, { block: c.ulid });
    try {
      await uploadBlock(this.#bucket, join(this.#dir, c.ulid), {
        labels: ext.toRecord(),
        source: this.#source,
        now: this.#now,
        ...this.#upload,
        ...(signal !== undefined ? { signal } : {}),
      });
    } catch (err) {
      throw new ThanosBlockError(BlockErrorCode.ShipperUpload, `upload block ${c.ulid} to bucket ${this.#bucket.name()}`, { cause: err, block: c.ulid });
    }
  }
}
