import { NoCompactReason, markForDeletion, markForNoCompact } from '../block/index.js';
import type { Bucket } from '../objstore/index.js';
import type { MarkAction } from './blocks-api.js';

/**
 * blockMarkAction returns the admin action of POST /api/v1/blocks/mark for bkt: DELETION writes
 * a deletion mark, NO_COMPACTION a no-compact mark with reason `manual` (an existing mark is
 * kept, as Thanos does); afterRun (e.g. a view refresh) runs after a mark was written.
 */
export function blockMarkAction(bkt: Bucket, afterRun?: () => Promise<void>): (id: string, action: MarkAction, detail: string) => Promise<void> {
  return async (id, action, detail) => {
    if (!(await bkt.exists(`${id}/meta.json`))) throw new Error(`block ${id} not found in bucket ${bkt.name()}`);
    const opts = detail !== '' ? { details: detail } : {};
    if (action === 'DELETION') await markForDeletion(bkt, id, opts);
    else await markForNoCompact(bkt, id, NoCompactReason.Manual, opts);
    await afterRun?.();
  };
}
