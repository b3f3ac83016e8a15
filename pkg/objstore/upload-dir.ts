import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bucket } from './bucket.js';
import { runLimited } from './run-limited.js';

/** TransferDirOptions tune {@link uploadDir} and `downloadDir`. */
export interface TransferDirOptions {
  readonly signal?: AbortSignal;
  /** concurrency is the number of files transferred at once (default 4). */
  readonly concurrency?: number;
}

/**
 * uploadDir uploads every regular file below localDir to `<remoteDir>/<relative path>` (the object
 * names use `/`), files streamed from disk. Symlinks and other non-regular files are skipped. The
 * order across files is unspecified; callers that need "meta.json last" upload it separately.
 */
export async function uploadDir(bucket: Bucket, localDir: string, remoteDir: string, opts: TransferDirOptions = {}): Promise<void> {
  const files = await listFiles(localDir, '');
  const base = remoteDir.replace(/\/+$/, '');
  await runLimited(files, opts.concurrency ?? 4, async (rel) => {
    opts.signal?.throwIfAborted();
    const stream = createReadStream(join(localDir, ...rel.split('/')));
    try {
      await bucket.upload(base === '' ? rel : `${base}/${rel}`, stream as AsyncIterable<Uint8Array>, opts.signal !== undefined ? { signal: opts.signal } : {});
    } finally {
      stream.destroy();
    }
  });
}

async function listFiles(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(rel === '' ? root : join(root, ...rel.split('/')), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(root, r)));
    else if (e.isFile()) out.push(r);
  }
  return out;
}
