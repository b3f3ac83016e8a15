import type { Bucket } from '../objstore/index.js';
import { META_FILENAME } from '../tsdb/index.js';
import { BlockErrorCode, ThanosBlockError } from './block-errors.js';
import { DELETION_MARK_FILENAME } from './markers.js';

/**
 * deleteBlock removes block `id` from the bucket in Thanos's order (block.Delete, objstore.md §4):
 * meta.json first, so a half-deleted block is a partial block that every reader ignores; then every
 * other object under `<id>/` (recursively) except the deletion mark; then the deletion mark, so an
 * interrupted delete is retried by whoever picks the marked block up again; then, best effort,
 * the directory marker objects `<id>/chunks/` and `<id>/` some stores create.
 */
export async function deleteBlock(bkt: Bucket, id: string, signal?: AbortSignal): Promise<void> {
  const ro = signal !== undefined ? { signal } : {};
  const metaFile = `${id}/${META_FILENAME}`;
  const markFile = `${id}/${DELETION_MARK_FILENAME}`;
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      throw new ThanosBlockError(BlockErrorCode.Delete, `delete block ${id} from bucket ${bkt.name()}: ${what}`, { cause: err, block: id });
    }
  };
  await step(`delete ${metaFile}`, async () => {
    if (await bkt.exists(metaFile, ro)) await bkt.delete(metaFile, ro);
  });
  await step(`delete objects under ${id}/`, async () => {
    const names: string[] = [];
    for await (const name of bkt.iter(`${id}/`, { recursive: true, ...ro })) {
      if (name !== metaFile && name !== markFile) names.push(name);
    }
    for (const name of names) await bkt.delete(name, ro);
  });
  await step(`delete ${markFile}`, async () => {
    if (await bkt.exists(markFile, ro)) await bkt.delete(markFile, ro);
  });
  for (const dir of [`${id}/chunks/`, `${id}/`]) {
    try {
      await bkt.delete(dir, ro);
    } catch {
      // Best effort: most stores have no directory objects (and some reject the name).
    }
  }
}
