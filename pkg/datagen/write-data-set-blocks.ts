import { CounterResetHeader, HistogramAppendResult, HistogramChunk, type ChunkMeta } from '../chunkenc/index.js';
import { FloatHistogram } from '../histogram/index.js';
import { Labels } from '../labels/index.js';
import { BlockWriter, type ThanosMeta, type WrittenBlock } from '../tsdb/index.js';
import type { DataSet, FloatSeries, NativeHistogramSeries } from './data-set.js';

/** DataSetBlocksOptions configure writeDataSetBlocks. */
export interface DataSetBlocksOptions {
  /** blockMs is the block range, blocks are aligned to multiples of it (default 2h). */
  readonly blockMs?: number;
  /** thanos is written into every block's meta.json (external labels, source …) when given. */
  readonly thanos?: ThanosMeta;
  /** signal stops between blocks. */
  readonly signal?: AbortSignal;
}

const TWO_HOURS = 2 * 3600_000;
const MAX_HISTOGRAM_CHUNK_SAMPLES = 120;

type Entry = { readonly labels: Labels; readonly float?: FloatSeries; readonly hist?: NativeHistogramSeries };

/**
 * writeDataSetBlocks writes a data set as TSDB blocks into dir with our own BlockWriter: one block
 * per aligned range holding samples, range [start, min(start + blockMs, ds.endMs)). Float series are
 * cut into XOR chunks like Prometheus's head; native histograms become integer histogram chunks
 * (a new chunk with the CounterReset header where a process restarted). Returns the written
 * blocks, oldest first. The whole data set is held in memory while writing (about 8 bytes per
 * sample).
 */
export async function writeDataSetBlocks(ds: DataSet, dir: string, opts: DataSetBlocksOptions = {}): Promise<WrittenBlock[]> {
  const blockMs = opts.blockMs ?? TWO_HOURS;
  const entries: Entry[] = [];
  for (const g of ds.families()) {
    for (const s of g.floats) entries.push({ labels: s.labels, float: s });
    for (const h of g.histograms) entries.push({ labels: h.labels, hist: h });
  }
  entries.sort((a, b) => Labels.compare(a.labels, b.labels));

  const ts = ds.timestamps;
  const out: WrittenBlock[] = [];
  const firstBlock = Math.floor(ds.startMs / blockMs) * blockMs;
  for (let bStart = firstBlock; bStart < ds.endMs; bStart += blockMs) {
    opts.signal?.throwIfAborted();
    const bEnd = Math.min(bStart + blockMs, ds.endMs);
    const steps: number[] = [];
    for (let i = 0; i < ts.length; i++) if (ts[i]! >= bStart && ts[i]! < bEnd) steps.push(i);
    if (steps.length === 0) continue;
    const w = await BlockWriter.create(dir, { minTime: bStart, maxTime: bEnd, ...(opts.thanos !== undefined ? { thanos: opts.thanos } : {}) });
    const bt = new Float64Array(steps.length);
    const bv = new Float64Array(steps.length);
    steps.forEach((i, k) => (bt[k] = ts[i]!));
    const h = new FloatHistogram();
    for (const e of entries) {
      if (e.float !== undefined) {
        const vs = e.float.values;
        for (let k = 0; k < steps.length; k++) bv[k] = vs[steps[k]!]!;
        await w.addSeries(e.labels, bt, bv);
      } else if (e.hist !== undefined) {
        await w.addChunkSeries(e.labels, histogramChunks(ds, e.hist, steps, h));
      }
    }
    out.push(await w.flush());
  }
  return out;
}

function histogramChunks(ds: DataSet, s: NativeHistogramSeries, steps: readonly number[], h: FloatHistogram): ChunkMeta[] {
  const chunks: ChunkMeta[] = [];
  let chunk = new HistogramChunk();
  let app = chunk.appender();
  let minT = NaN;
  let maxT = NaN;
  const close = () => {
    if (chunk.numSamples() > 0) chunks.push({ ref: 0, minTime: minT, maxTime: maxT, chunk });
  };
  for (const i of steps) {
    const t = ds.timestamps[i]!;
    ds.histogramAt(s, i, h);
    let res: HistogramAppendResult = chunk.numSamples() >= MAX_HISTOGRAM_CHUNK_SAMPLES ? HistogramAppendResult.NewChunk : app.appendHistogram(t, h);
    if (res !== HistogramAppendResult.Appended) {
      close();
      chunk = new HistogramChunk();
      if (res === HistogramAppendResult.CounterReset) chunk.setCounterResetHeader(CounterResetHeader.CounterReset);
      app = chunk.appender();
      res = app.appendHistogram(t, h);
      if (res !== HistogramAppendResult.Appended) throw new RangeError(`histogram sample at ${t} of ${s.labels.toString()} does not fit an empty chunk`);
      minT = t;
    } else if (chunk.numSamples() === 1) minT = t;
    maxT = t;
  }
  close();
  return chunks;
}
