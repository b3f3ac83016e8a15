import type { FloatAggregator } from './float-aggregator.js';
import type { SampleBuffer } from './sample-buffer.js';
import { windowEnd } from './windows.js';

/** WindowSink receives the aggregator at the end of each window, stamped with the window's time. */
export interface WindowSink {
  window(t: number, a: FloatAggregator): void;
}

/**
 * aggregateWindows feeds the samples of buf (timestamps non-decreasing) through a, calling
 * sink.window at the end of every resolution window that has samples (Thanos's downsampleBatch). A
 * window is stamped with its last millisecond, but never later than the batch's last sample, so
 * that consecutive output chunks cannot overlap. Returns the last window's timestamp. buf must not
 * be empty; a is cleared first.
 */
export function aggregateWindows(buf: SampleBuffer, res: number, a: FloatAggregator, sink: WindowSink): number {
  const ts = buf.t;
  const vs = buf.v;
  const n = buf.n;
  const lastT = ts[n - 1]!;
  let nextT = -1;
  a.clear();
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    if (t > nextT) {
      if (nextT !== -1) sink.window(nextT, a);
      a.reset();
      const w = windowEnd(t, res);
      nextT = w < lastT ? w : lastT;
    }
    a.add(vs[i]!);
  }
  if (a.total > 0) sink.window(nextT, a);
  return nextT;
}
