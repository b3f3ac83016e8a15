import { AggrChunk, AggrType, CounterResetsIterator, Encoding, XorChunk, isStaleNaN, type Chunk, type ChunkMeta, type SampleIterator } from '../chunkenc/index.js';
import { ChunkListIterator } from '../storage/index.js';
import { FiveAggregates, OneAggregate, Pick } from './aggregate-sinks.js';
import { aggregateWindows } from './aggregate-windows.js';
import { TimeRange } from './time-range.js';
import { DownsampleError, DownsampleErrorCode } from './downsample-error.js';
import { FloatAggregator } from './float-aggregator.js';
import { RAW_INPUT_RESOLUTION, RES_5M, resolutionName } from './resolution.js';
import { SampleBuffer } from './sample-buffer.js';
import { targetChunkCount, windowEnd } from './windows.js';

const isHistogram = (enc: number): boolean => enc === Encoding.Histogram || enc === Encoding.FloatHistogram;

/** DownsamplerOptions configures a Downsampler. */
export interface DownsamplerOptions {
  /**
   * histograms says what to do with native histogram chunks, which are not downsampled yet:
   * 'error' (default) throws a DownsampleError (TESSERA_DOWNSAMPLE_UNSUPPORTED); 'skip' leaves them
   * out of the output.
   */
  readonly histograms?: 'error' | 'skip';
}

/** One aggregate chunk of the input with its time range. */
interface AggrInput {
  readonly minTime: number;
  readonly maxTime: number;
  readonly chunk: AggrChunk;
}

/**
 * Downsampler turns the chunks of one series into aggregate chunks of a coarser resolution, the way
 * Thanos's compactor does (algorithms.md §3; Thanos pkg/compact/downsample):
 * - raw input (resolution 0): samples are expanded (staleness markers dropped, as are samples that
 *   go back in time within a chunk or have negative timestamps), cut into batches of about
 *   n / targetChunkCount samples extended to the end of a window, NaN values dropped, and each
 *   batch aggregated per epoch-aligned window into one aggregate chunk of count, sum, min, max and
 *   counter (counter: first raw value, then per window the reset-corrected total, then the last raw
 *   value again at the last window's timestamp);
 * - aggregated input (5m → 1h, and 1h → 1d by the same path, algorithms.md §6): input chunks are
 *   grouped along their boundaries; per group counts and sums are summed, mins minimised, maxes
 *   maximised per output window, and the counter is rebuilt through CounterResetsIterator. Raw
 *   chunks found in an aggregated series are first turned into 5m aggregates (as Thanos does).
 *
 * Deviations from Thanos, all for inputs Thanos never writes: a group of aggregated chunks that
 * yields no window is skipped (Thanos fails with "invalid range"); a group whose counters are all
 * absent gets an empty counter sub-chunk (Thanos would write an absent last aggregate it cannot
 * read back); more groups than input chunks cannot loop forever. Native histogram chunks are not
 * supported yet: they are a DownsampleError (TESSERA_DOWNSAMPLE_UNSUPPORTED), or, with
 * `histograms: 'skip'`, left out (counted in skippedHistogramChunks) while the float runs around
 * them are downsampled as Thanos would.
 *
 * Buffers are reused across calls: one Downsampler per worker; nothing is allocated per sample.
 */
export class Downsampler {
  /** skippedHistogramChunks counts the histogram chunks left out with `histograms: 'skip'`. */
  skippedHistogramChunks = 0;
  readonly #skipHistograms: boolean;
  readonly #all = new SampleBuffer();
  readonly #batch = new SampleBuffer();
  readonly #agg = new FloatAggregator();
  readonly #list = new ChunkListIterator();
  readonly #counter = new CounterResetsIterator();
  #it: SampleIterator | undefined;

  constructor(opts: DownsamplerOptions = {}) {
    this.#skipHistograms = opts.histograms === 'skip';
  }

  /**
   * series downsamples one series: chunks are its chunks from a block of resolution inRes, ordered
   * by time and not overlapping; returns its aggregate chunks at resolution outRes (refs 0), possibly
   * none (Thanos then leaves the series out of the block). `where` names the series in errors.
   */
  series(chunks: readonly ChunkMeta[], inRes: number, outRes: number, where = 'series'): ChunkMeta[] {
    if (!(outRes > inRes) || outRes <= 0) {
      throw new DownsampleError(DownsampleErrorCode.Resolution, `downsample ${where}: target resolution ${resolutionName(outRes)} is not coarser than ${resolutionName(inRes)}`);
    }
    for (let i = 1; i < chunks.length; i++) {
      if (chunks[i - 1]!.maxTime >= chunks[i]!.minTime) {
        const a = chunks[i - 1]!;
        const b = chunks[i]!;
        throw new DownsampleError(DownsampleErrorCode.Overlap, `downsample ${where}: chunk ${i - 1} [${a.minTime}, ${a.maxTime}] overlaps chunk ${i} [${b.minTime}, ${b.maxTime}]`);
      }
    }
    const out: ChunkMeta[] = [];
    if (inRes === 0) this.#raw(chunks, outRes, where, out);
    else this.#aggregated(chunks, inRes, outRes, where, out);
    return out;
  }

  #raw(chunks: readonly ChunkMeta[], outRes: number, where: string, out: ChunkMeta[]): void {
    const all = this.#all;
    all.clear();
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!.chunk;
      if (isHistogram(c.encoding())) {
        if (!this.#skipHistograms) throw unsupported(where, i);
        // A float run ends where histograms start, as Thanos cuts runs where the sample type changes.
        this.#rawRun(outRes, out);
        all.clear();
        this.skippedHistogramChunks++;
        continue;
      }
      this.#expand(c, all, where, i);
    }
    this.#rawRun(outRes, out);
  }

  /** #expand appends a float chunk's samples to buf, without staleness markers or samples going back in time. */
  #expand(c: Chunk, buf: SampleBuffer, where: string, i: number): void {
    if (c.encoding() !== Encoding.XOR) {
      throw new DownsampleError(DownsampleErrorCode.Unsupported, `downsample ${where}: chunk ${i} has encoding ${c.encoding()}, want XOR`);
    }
    const it = c.iterator(this.#it);
    this.#it = it;
    this.#drain(it, buf);
    const err = it.err();
    if (err !== null) throw new DownsampleError(DownsampleErrorCode.Corrupt, `downsample ${where}: decode chunk ${i}: ${err.message}`, { cause: err });
  }

  /** #drain is Thanos's expandXorChunkIterator: drops staleness markers and samples before the previous one (or before 0). */
  #drain(it: SampleIterator, buf: SampleBuffer): void {
    let lastT = 0;
    while (it.next() !== 0) {
      const t = it.atT();
      const v = it.atF();
      if (v !== v && isStaleNaN(v)) continue;
      if (t >= lastT) {
        buf.push(t, v);
        lastT = t;
      }
    }
  }

  /** #rawRun aggregates the samples in #all (DownsampleRaw). */
  #rawRun(res: number, out: ChunkMeta[]): void {
    const all = this.#all;
    const n = all.n;
    if (n === 0) return;
    const ts = all.t;
    const vs = all.v;
    const numChunks = targetChunkCount(ts[0]!, ts[n - 1]!, RAW_INPUT_RESOLUTION, res, n);
    const batchSize = Math.floor(n / numChunks) + 1;
    const batch = this.#batch;
    let i = 0;
    while (i < n) {
      let j = Math.min(i + batchSize, n);
      const w = windowEnd(ts[j - 1]!, res);
      while (j < n && ts[j]! <= w) j++;
      batch.clear();
      for (let k = i; k < j; k++) {
        const v = vs[k]!;
        if (v === v) batch.push(ts[k]!, v);
      }
      i = j;
      if (batch.n > 0) out.push(this.#floatBatch(res));
    }
  }

  /** #floatBatch encodes one aggregate chunk from #batch (downsampleFloatBatch). */
  #floatBatch(res: number): ChunkMeta {
    const b = this.#batch;
    const five = new FiveAggregates();
    five.counter.append(b.t[0]!, b.v[0]!);
    const lastT = aggregateWindows(b, res, this.#agg, five);
    five.counter.append(lastT, b.v[b.n - 1]!);
    return { ref: 0, minTime: five.range.minTime, maxTime: five.range.maxTime, chunk: AggrChunk.encode(five.chunks) };
  }

  #aggregated(chunks: readonly ChunkMeta[], inRes: number, outRes: number, where: string, out: ChunkMeta[]): void {
    // Aggregate chunks as they are; raw chunks turned into 5m aggregates first; empty ones skipped.
    const fixed: AggrInput[] = [];
    const cutBefore = new Set<number>();
    for (let i = 0; i < chunks.length; i++) {
      const m = chunks[i]!;
      const enc = m.chunk.encoding();
      if (enc === Encoding.Aggr) {
        const chunk = m.chunk instanceof AggrChunk ? m.chunk : AggrChunk.fromBytes(m.chunk.bytes());
        fixed.push({ minTime: m.minTime, maxTime: m.maxTime, chunk });
        continue;
      }
      if (m.chunk.numSamples() === 0) continue;
      if (isHistogram(enc)) {
        if (!this.#skipHistograms) throw unsupported(where, i);
        this.skippedHistogramChunks++;
        cutBefore.add(fixed.length);
        continue;
      }
      this.#all.clear();
      this.#expand(m.chunk, this.#all, where, i);
      const conv: ChunkMeta[] = [];
      this.#rawRun(RES_5M, conv);
      for (const c of conv) fixed.push({ minTime: c.minTime, maxTime: c.maxTime, chunk: c.chunk as AggrChunk });
    }
    // Runs of float aggregates, cut where histograms were (skipped, or an error), as Thanos cuts
    // runs where the sample type changes.
    let start = 0;
    for (let i = 0; i <= fixed.length; i++) {
      const hist = i < fixed.length && isHistogramAggr(fixed[i]!.chunk);
      if (i < fixed.length && !hist && !cutBefore.has(i)) continue;
      if (hist) {
        if (!this.#skipHistograms) throw unsupported(where, i);
        this.skippedHistogramChunks++;
      }
      if (i > start) this.#aggrRun(fixed.slice(start, i), inRes, outRes, where, out);
      start = hist ? i + 1 : i;
    }
  }

  /** #aggrRun re-aggregates a run of aggregate chunks (downsampleAggr + downsampleAggrLoop). */
  #aggrRun(chks: readonly AggrInput[], inRes: number, outRes: number, where: string, out: ChunkMeta[]): void {
    let numSamples = 0;
    for (const c of chks) numSamples += c.chunk.numSamples();
    const numChunks = targetChunkCount(chks[0]!.minTime, chks[chks.length - 1]!.maxTime, inRes, outRes, numSamples);
    const batchSize = Math.max(1, Math.floor(chks.length / numChunks));
    for (let i = 0; i < chks.length; i += batchSize) {
      const m = this.#floatAggrBatch(chks.slice(i, i + batchSize), outRes, where, i);
      if (m !== null) out.push(m);
    }
  }

  /** #floatAggrBatch builds one aggregate chunk from a group of aggregate chunks (downsampleFloatAggrBatch). */
  #floatAggrBatch(part: readonly AggrInput[], res: number, where: string, first: number): ChunkMeta | null {
    const range = new TimeRange();
    const subs: (Chunk | null)[] = [null, null, null, null, null];
    const buf = this.#all;
    const picks = [Pick.Sum, Pick.Sum, Pick.Min, Pick.Max] as const;
    for (const at of [AggrType.Count, AggrType.Sum, AggrType.Min, AggrType.Max] as const) {
      buf.clear();
      for (let i = 0; i < part.length; i++) {
        const sub = this.#sub(part[i]!.chunk, at, where, first + i);
        if (sub !== null) this.#expand(sub, buf, where, first + i);
      }
      if (buf.n === 0) continue;
      const one = new OneAggregate(picks[at], range);
      aggregateWindows(buf, res, this.#agg, one);
      subs[at] = one.chunk;
    }

    // Counters: reset-corrected totals across the group, first raw value, per-window totals, last raw value.
    const counters: Chunk[] = [];
    for (let i = 0; i < part.length; i++) {
      const sub = this.#sub(part[i]!.chunk, AggrType.Counter, where, first + i);
      if (sub === null) continue;
      if (sub.encoding() !== Encoding.XOR) throw unsupported(where, first + i);
      counters.push(sub);
    }
    buf.clear();
    const cit = this.#counter.reset(this.#list.reset(counters));
    this.#drain(cit, buf);
    const err = cit.err();
    if (err !== null) throw new DownsampleError(DownsampleErrorCode.Corrupt, `downsample ${where}: decode counter of chunks ${first}..${first + part.length - 1}: ${err.message}`, { cause: err });
    if (buf.n === 0) {
      subs[AggrType.Counter] = new XorChunk();
    } else {
      const one = new OneAggregate(Pick.Counter, range);
      one.app.append(buf.t[0]!, buf.v[0]!);
      const lastT = aggregateWindows(buf, res, this.#agg, one);
      one.app.append(lastT, cit.lastRaw());
      subs[AggrType.Counter] = one.chunk;
    }
    if (range.minTime === Infinity) return null;
    return { ref: 0, minTime: range.minTime, maxTime: range.maxTime, chunk: AggrChunk.encode(subs) };
  }

  #sub(c: AggrChunk, at: AggrType, where: string, i: number): Chunk | null {
    try {
      return c.get(at);
    } catch (err) {
      throw new DownsampleError(DownsampleErrorCode.Corrupt, `downsample ${where}: chunk ${i}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** isHistogramAggr tells histogram aggregates by their counter; an unreadable one counts as float, as in Thanos. */
function isHistogramAggr(c: AggrChunk): boolean {
  try {
    const s = c.section(AggrType.Counter);
    return s !== null && isHistogram(s.encoding);
  } catch {
    return false;
  }
}

function unsupported(where: string, i: number): DownsampleError {
  return new DownsampleError(DownsampleErrorCode.Unsupported, `downsample ${where}: chunk ${i} holds native histograms, which are not downsampled yet`);
}
