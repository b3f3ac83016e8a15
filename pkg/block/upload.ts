import { open, readdir, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runLimited, type Bucket } from '../objstore/index.js';
import { META_FILENAME, formatBlockMeta, readBlockMeta, type BlockMeta, type ThanosFile, type ThanosMeta } from '../tsdb/index.js';
import { BlockErrorCode, ThanosBlockError } from './block-errors.js';
import { sha256File, type HashFunc } from './file-hash.js';

/** UploadBlockOptions tune {@link uploadBlock}. */
export interface UploadBlockOptions {
  /** labels replace `thanos.labels` (the producer's external labels); default: the labels already in meta.json. */
  readonly labels?: Readonly<Record<string, string>>;
  /** source replaces `thanos.source` (e.g. `sidecar`, `compactor`, `bucket.upload`); default: as in meta.json. */
  readonly source?: string;
  /** allowEmptyLabels uploads a block without external labels (Thanos's UploadPromBlock); default false. */
  readonly allowEmptyLabels?: boolean;
  /** hashFunc records a SHA-256 per chunk file and index in `thanos.files` (default 'none'). */
  readonly hashFunc?: HashFunc;
  /** concurrency is how many chunk files upload at the same time (default 1). */
  readonly concurrency?: number;
  /** now is the clock for `thanos.upload_time`, Unix ms (default Date.now). */
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

interface OpenFile {
  readonly rel: string;
  readonly fh: FileHandle;
  size: number;
}

const byRelPath = (a: ThanosFile, b: ThanosFile): number => (a.rel_path < b.rel_path ? -1 : a.rel_path > b.rel_path ? 1 : 0);

/**
 * uploadBlock uploads the local block directory `blockDir` (named by its ULID) to `<ULID>/…` in the
 * bucket, as Thanos's block.Upload: every `chunks/*` file, then `index`, then meta.json last, so a
 * block is visible to readers only once complete. The uploaded meta.json is the local one with its
 * `thanos` section completed (created if absent, with version 1 and resolution 0): labels and
 * source as given, `segment_files`, `files` (sizes, and hashes with hashFunc) and `upload_time`.
 * The local meta.json is not modified; `tombstones` and other files are not uploaded.
 *
 * Every file is opened before the first byte is sent: an open descriptor keeps the data readable
 * even if the block directory is deleted meanwhile (Prometheus retention), so what is shipped is
 * consistent. Re-uploading is idempotent. Returns the meta.json as uploaded. Errors are
 * ThanosBlockError (Upload) naming the block and file; a failure leaves a partial block without
 * meta.json, which readers ignore.
 */
export async function uploadBlock(bkt: Bucket, blockDir: string, opts: UploadBlockOptions = {}): Promise<BlockMeta> {
  const id = basename(blockDir);
  const fail = (what: string, cause?: unknown): never => {
    throw new ThanosBlockError(BlockErrorCode.Upload, `upload block ${blockDir}: ${what}`, { block: id, ...(cause !== undefined ? { cause } : {}) });
  };
  let local: BlockMeta;
  try {
    local = await readBlockMeta(blockDir);
  } catch (err) {
    return fail(`read ${META_FILENAME}: ${(err as Error).message}`, err);
  }
  if (local.ulid !== id) fail(`directory name does not match meta.json ulid ${local.ulid}`);
  const prev = local.thanos;
  const thanos: ThanosMeta = {
    ...(prev ?? { version: 1, downsample: { resolution: 0 }, index_stats: {} }),
    labels: { ...(opts.labels ?? prev?.labels ?? {}) },
    source: opts.source ?? prev?.source ?? '',
  };
  if (!opts.allowEmptyLabels && Object.keys(thanos.labels).length === 0) fail('empty external labels are not allowed for Thanos blocks');

  const files: OpenFile[] = [];
  try {
    let chunkNames: string[] = [];
    try {
      chunkNames = (await readdir(join(blockDir, 'chunks'), { withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') fail('list chunks/', err);
    }
    for (const rel of [...chunkNames.map((n) => `chunks/${n}`), 'index']) {
      try {
        const fh = await open(join(blockDir, ...rel.split('/')), 'r');
        files.push({ rel, fh, size: 0 });
        files[files.length - 1]!.size = (await fh.stat()).size;
      } catch (err) {
        fail(`open ${rel}`, err);
      }
    }
    const stats: ThanosFile[] = [];
    for (const f of files) {
      const e: ThanosFile = { rel_path: f.rel, size_bytes: f.size };
      if (opts.hashFunc === 'SHA256') e.hash = await sha256File(f.fh);
      stats.push(e);
    }
    stats.push({ rel_path: META_FILENAME });
    stats.sort(byRelPath);
    thanos.segment_files = chunkNames;
    thanos.files = stats;

    const ro = opts.signal !== undefined ? { signal: opts.signal } : {};
    const send = async (f: OpenFile): Promise<void> => {
      try {
        await bkt.upload(`${id}/${f.rel}`, f.fh.createReadStream({ start: 0, autoClose: false }), ro);
      } catch (err) {
        fail(`upload ${f.rel} to bucket ${bkt.name()}`, err);
      }
    };
    await runLimited(files.slice(0, -1), Math.max(1, opts.concurrency ?? 1), send);
    await send(files[files.length - 1]!);

    thanos.upload_time = new Date((opts.now ?? Date.now)()).toISOString();
    const uploaded: BlockMeta = { ...local, thanos };
    try {
      await bkt.upload(`${id}/${META_FILENAME}`, new TextEncoder().encode(formatBlockMeta(uploaded)), { contentType: 'application/json', ...ro });
    } catch (err) {
      fail(`upload ${META_FILENAME} to bucket ${bkt.name()}`, err);
    }
    return uploaded;
  } finally {
    await Promise.all(files.map((f) => f.fh.close().catch(() => {})));
  }
}
