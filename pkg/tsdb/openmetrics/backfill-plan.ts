import { ChunkCutter, floatBits, type ChunkCutterOptions, type ChunkMeta } from '../../chunkenc/index.js';
import { TesseraError } from '../../errors/index.js';
import { Labels } from '../../labels/index.js';
import type { OpenMetricsBatch } from './openmetrics-parser.js';

/** BackfillOptions configures planBackfill. */
export interface BackfillOptions {
  /** blockDuration is the block length in ms (promtool's --max-block-duration, default 2h). */
  readonly blockDuration?: number;
  /**
   * chunks configures chunk cutting. The default imitates promtool's BlockWriter head: windows of
   * 2 × blockDuration, 120 samples per chunk, Prometheus ≥ 3.0 byte cap and no pad byte.
   */
  readonly chunks?: ChunkCutterOptions;
  /** file names the input in errors. */
  readonly file?: string;
}

/** BackfillSeries is one series of a planned block with its chunks in time order. */
export interface BackfillSeries {
  readonly labels: Labels;
  readonly chunks: ChunkMeta[];
  readonly numSamples: number;
}

/**
 * BackfillBlock is one block to write: series sorted by labels; minTime is the first sample's
 * timestamp and maxTime the last one's + 1, as promtool's BlockWriter produces.
 */
export interface BackfillBlock {
  readonly minTime: number;
  readonly maxTime: number;
  readonly series: BackfillSeries[];
  readonly numSamples: number;
}

const TWO_HOURS = 7_200_000;

class SeriesBuf {
  ts = new Float64Array(64);
  vs = new Float64Array(64);
  n = 0;
  constructor(readonly labels: Labels) {}
  push(t: number, v: number): void {
    if (this.n === this.ts.length) {
      const ts = new Float64Array(this.n * 2);
      ts.set(this.ts);
      this.ts = ts;
      const vs = new Float64Array(this.n * 2);
      vs.set(this.vs);
      this.vs = vs;
    }
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }
}

/** BackfillError reports input promtool would also reject (missing timestamp, out-of-order sample). */
export class BackfillError extends TesseraError {
  constructor(message: string) {
    super('TESSERA_BACKFILL_INPUT', message);
  }
}

/**
 * planBackfill groups parsed OpenMetrics samples into blocks the way `promtool tsdb
 * create-blocks-from openmetrics` does: windows of blockDuration aligned to multiples of it
 * (starting at the window of the earliest sample), samples appended per series in input order, each
 * series cut into XOR chunks like the BlockWriter's head. Samples without a timestamp, and
 * out-of-order samples within a window, are errors (a repeated identical sample is ignored, as the
 * head does).
 */
export async function planBackfill(batches: AsyncIterable<OpenMetricsBatch> | Iterable<OpenMetricsBatch>, options: BackfillOptions = {}): Promise<BackfillBlock[]> {
  const dur = options.blockDuration ?? TWO_HOURS;
  const file = options.file ?? 'input';
  const windows = new Map<number, Map<string, SeriesBuf>>();
  const { f64, u32, HI, LO } = floatBits;
  for await (const b of batches as AsyncIterable<OpenMetricsBatch>) {
    for (let i = 0; i < b.length; i++) {
      const t = b.timestamps[i]!;
      const labels = b.labels[i]!;
      if (Number.isNaN(t)) throw new BackfillError(`parse ${file} line ${b.lines[i]}: expected timestamp for series ${labels.toString()}, got none`);
      // Go: mint = blockDuration * (mint / blockDuration) with truncating division; windows are
      // [mint + k·dur, mint + (k+1)·dur), equivalent to aligning each sample's window.
      const w = Math.trunc(t / dur) * dur - (t < 0 && t % dur !== 0 ? dur : 0);
      let win = windows.get(w);
      if (win === undefined) windows.set(w, (win = new Map()));
      const key = labels.key();
      let s = win.get(key);
      if (s === undefined) win.set(key, (s = new SeriesBuf(labels)));
      if (s.n > 0) {
        const lt = s.ts[s.n - 1]!;
        if (t < lt) throw new BackfillError(`parse ${file} line ${b.lines[i]}: add sample: out of order sample for series ${labels.toString()} at ${t} (last ${lt})`);
        if (t === lt) {
          f64[0] = s.vs[s.n - 1]!;
          const h = u32[HI];
          const l = u32[LO];
          f64[0] = b.values[i]!;
          if (h === u32[HI] && l === u32[LO]) continue;
          throw new BackfillError(`parse ${file} line ${b.lines[i]}: add sample: duplicate sample for timestamp ${t} with a different value, series ${labels.toString()}`);
        }
      }
      s.push(t, b.values[i]!);
    }
  }
  const blocks: BackfillBlock[] = [];
  const chunkOpts: ChunkCutterOptions = { chunkRange: 2 * dur, ...options.chunks };
  for (const w of [...windows.keys()].sort((a, b) => a - b)) {
    const bufs = [...windows.get(w)!.values()].sort((a, b) => Labels.compare(a.labels, b.labels));
    let minTime = Infinity;
    let maxTime = -Infinity;
    let total = 0;
    const series: BackfillSeries[] = [];
    for (const s of bufs) {
      const cutter = new ChunkCutter(chunkOpts);
      for (let i = 0; i < s.n; i++) cutter.append(s.ts[i]!, s.vs[i]!);
      series.push({ labels: s.labels, chunks: cutter.finish(), numSamples: s.n });
      if (s.ts[0]! < minTime) minTime = s.ts[0]!;
      if (s.ts[s.n - 1]! > maxTime) maxTime = s.ts[s.n - 1]!;
      total += s.n;
    }
    blocks.push({ minTime, maxTime: maxTime + 1, series, numSamples: total });
  }
  return blocks;
}
