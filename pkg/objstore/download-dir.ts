import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Bucket } from './bucket.js';
import { dirPrefix, validateObjectName } from './object-name.js';
import { runLimited } from './run-limited.js';
import type { TransferDirOptions } from './upload-dir.js';

/**
 * downloadDir fetches every object below remoteDir (recursively) into localDir, keeping the
 * relative paths, and returns the relative paths written. Object names are validated, so a
 * hostile listing cannot write outside localDir.
 */
export async function downloadDir(bucket: Bucket, remoteDir: string, localDir: string, opts: TransferDirOptions = {}): Promise<string[]> {
  const prefix = dirPrefix(remoteDir);
  const rels: string[] = [];
  for await (const name of bucket.iter(prefix, opts.signal !== undefined ? { recursive: true, signal: opts.signal } : { recursive: true })) {
    const rel = name.slice(prefix.length);
    validateObjectName(rel, 'download', bucket.name());
    rels.push(rel);
  }
  await mkdir(localDir, { recursive: true });
  await runLimited(rels, opts.concurrency ?? 4, async (rel) => {
    const data = await bucket.get(prefix + rel, opts.signal !== undefined ? { signal: opts.signal } : {});
    const path = join(localDir, ...rel.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  });
  return rels;
}
