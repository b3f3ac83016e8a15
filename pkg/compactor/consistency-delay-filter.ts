import type { FilterContext, MetaFilter } from '../block/index.js';
import { ulidTime, type BlockMeta } from '../tsdb/index.js';

/** TOO_FRESH is the sync state of blocks hidden by the consistency delay. */
export const TOO_FRESH = 'too-fresh';

/** Sources whose blocks are complete when uploaded and so are never held back. */
const TRUSTED_SOURCES = new Set(['compactor', 'compactor.repair', 'bucket.repair']);

/**
 * ConsistencyDelayMetaFilter hides blocks younger than the consistency delay (by
 * thanos.upload_time, else by ULID time), except blocks produced by the compactor or a repair,
 * as Thanos's ConsistencyDelayMetaFilter does.
 */
export class ConsistencyDelayMetaFilter implements MetaFilter {
  readonly #delayMs: number;
  readonly #now: () => number;

  constructor(delayMs: number, now: () => number = Date.now) {
    this.#delayMs = delayMs;
    this.#now = now;
  }

  filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void> {
    const now = this.#now();
    for (const [id, m] of metas) {
      if (TRUSTED_SOURCES.has(m.thanos?.source ?? '')) continue;
      if (now - blockAge(m) >= this.#delayMs) continue;
      metas.delete(id);
      ctx.count(TOO_FRESH);
    }
    return Promise.resolve();
  }
}

/** blockAge returns when a block became visible: its upload time, else its ULID time (Unix ms). */
function blockAge(m: BlockMeta): number {
  const t = m.thanos?.upload_time;
  if (t !== undefined && !t.startsWith('0001-01-01')) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
  }
  return ulidTime(m.ulid);
}
