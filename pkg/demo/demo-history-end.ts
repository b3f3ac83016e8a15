import { isULID } from '../block/index.js';
import type { Bucket } from '../objstore/index.js';
import { parseBlockMeta } from '../tsdb/index.js';

/**
 * demoHistoryEnd is where the demo history in the bucket ends: the newest maxTime of the blocks
 * labelled `cluster="demo"` (what writeDemoBlocks uploads, and what the compactor makes of it),
 * or undefined when there are none. Blocks of the sidecars and the ruler have other labels.
 */
export async function demoHistoryEnd(bucket: Bucket): Promise<number | undefined> {
  let end: number | undefined;
  for await (const entry of bucket.iter('')) {
    const ulid = entry.replace(/\/$/, '');
    if (!isULID(ulid)) continue;
    let meta;
    try {
      meta = parseBlockMeta(new TextDecoder().decode(await bucket.get(`${ulid}/meta.json`)), `${ulid}/meta.json`);
    } catch {
      continue; // a partial upload, a block being deleted, or not a block the demo wrote
    }
    if (meta.thanos?.labels['cluster'] !== 'demo') continue;
    if (end === undefined || meta.maxTime > end) end = meta.maxTime;
  }
  return end;
}
