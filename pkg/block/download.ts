import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type BucketReader, runLimited, validateObjectName } from '../objstore/index.js';
import { META_FILENAME, parseBlockMeta, type BlockMeta } from '../tsdb/index.js';
import { BlockErrorCode, ThanosBlockError } from './block-errors.js';
import { sha256File } from './file-hash.js';

/** DownloadBlockOptions tune {@link downloadBlock}. */
export interface DownloadBlockOptions {
  /** concurrency is how many objects download at the same time (default 4). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

/**
 * downloadBlock fetches block `id` from the bucket into the local directory `dst`, as Thanos's
 * block.Download: meta.json first (a block without it is partial and fails here), then every other
 * object under `<id>/`, skipping files whose SHA-256 in `thanos.files` matches the local copy
 * already in dst; an empty `chunks/` directory is created when the block has no chunk files.
 * Returns the block's meta.json.
 */
export async function downloadBlock(bkt: BucketReader, id: string, dst: string, opts: DownloadBlockOptions = {}): Promise<BlockMeta> {
  const ro = opts.signal !== undefined ? { signal: opts.signal } : {};
  const fail = (what: string, cause?: unknown): never => {
    throw new ThanosBlockError(BlockErrorCode.Download, `download block ${id} to ${dst}: ${what}`, { block: id, ...(cause !== undefined ? { cause } : {}) });
  };
  await mkdir(dst, { recursive: true });
  let metaBytes: Uint8Array;
  try {
    metaBytes = await bkt.get(`${id}/${META_FILENAME}`, ro);
  } catch (err) {
    return fail(bkt.isObjNotFoundErr(err) ? `no ${META_FILENAME} (partial block)` : `get ${META_FILENAME}`, err);
  }
  let meta: BlockMeta;
  try {
    meta = parseBlockMeta(new TextDecoder().decode(metaBytes), `${id}/${META_FILENAME}`);
  } catch (err) {
    return fail((err as Error).message, err);
  }
  await writeFile(join(dst, META_FILENAME), metaBytes);

  const skip = new Set<string>([META_FILENAME]);
  for (const f of meta.thanos?.files ?? []) {
    if (f.hash === undefined || f.hash.hashFunc !== 'SHA256' || f.rel_path === '') continue;
    try {
      if ((await sha256File(join(dst, ...f.rel_path.split('/')))).value === f.hash.value) skip.add(f.rel_path);
    } catch {
      // Missing or unreadable local copy: download it.
    }
  }

  const prefix = `${id}/`;
  const rels: string[] = [];
  try {
    for await (const name of bkt.iter(prefix, { recursive: true, ...ro })) {
      const rel = name.slice(prefix.length);
      validateObjectName(rel, 'download', id);
      if (!skip.has(rel)) rels.push(rel);
    }
    await runLimited(rels, Math.max(1, opts.concurrency ?? 4), async (rel) => {
      const data = await bkt.get(prefix + rel, ro);
      const path = join(dst, ...rel.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data);
    });
  } catch (err) {
    fail(`fetch objects from bucket`, err);
  }
  await mkdir(join(dst, 'chunks'), { recursive: true });
  return meta;
}
