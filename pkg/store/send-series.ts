import type { Labels } from '../labels/index.js';
import type { StoreSeries } from '../storepb/index.js';
import type { SeriesFrameWriter } from './series-frame-writer.js';
import { abortReason } from './store-error.js';

/**
 * sendSeries sends label-sorted series through w and flushes it: at most `limit` label sets
 * (SeriesRequest.limit; undefined or ≤ 0 is no limit), consecutive entries with equal labels
 * counting once. It waits on the sink's back-pressure and stops with abortReason once signal aborts.
 */
export async function sendSeries(w: SeriesFrameWriter, series: readonly StoreSeries[], limit: number | undefined, signal: AbortSignal): Promise<void> {
  const max = limit !== undefined && limit > 0 ? limit : Infinity;
  let sent = 0;
  let prev: Labels | undefined;
  for (const s of series) {
    if (prev === undefined || !prev.equals(s.labels)) {
      if (sent >= max) break;
      sent++;
    }
    prev = s.labels;
    const p = w.series(s);
    if (p !== undefined) await p;
    if (signal.aborted) throw abortReason(signal);
  }
  await w.flush();
}
