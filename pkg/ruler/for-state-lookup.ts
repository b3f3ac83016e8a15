import { ValueType, type SampleIterator } from '../chunkenc/index.js';
import { MatchType, Matcher } from '../labels/index.js';
import type { ForStateLookup } from '../rules/index.js';
import type { ChunkQueryable } from '../storage/index.js';

/**
 * chunkForStateLookup reads the last ALERTS_FOR_STATE sample of one series in [mint, maxt] from a
 * ChunkQueryable (the ruler's own head), for restoring alerts' `for` state after a restart.
 */
export function chunkForStateLookup(queryable: ChunkQueryable): ForStateLookup {
  return async (series, mint, maxt) => {
    const q = await queryable.chunkQuerier(mint, maxt);
    try {
      const matchers = series.toArray().map((l) => new Matcher(MatchType.Equal, l.name, l.value));
      const set = await q.select(false, { start: mint, end: maxt }, matchers);
      let last: { t: number; v: number } | undefined;
      let it: SampleIterator | undefined;
      while (set.next()) {
        const s = set.at();
        if (!s.labels().equals(series)) continue;
        for (const c of s.chunks()) {
          if (c.maxTime < mint || c.minTime > maxt || (last !== undefined && c.maxTime <= last.t)) continue;
          it = c.chunk.iterator(it);
          while (it.next() === ValueType.Float) {
            const t = it.atT();
            if (t < mint || t > maxt) continue;
            if (last === undefined || t > last.t) last = { t, v: it.atF() };
          }
        }
      }
      const err = set.err();
      if (err !== null) throw err;
      return last;
    } finally {
      await q.close();
    }
  };
}
