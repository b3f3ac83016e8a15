import { ChunkCutter, type ChunkMeta } from '../chunkenc/index.js';
import { Labels, type Matcher, compareStrings, matchesAll } from '../labels/index.js';
import { ArraySeriesSet, type ChunkQuerier, type ChunkQueryable, type ChunkSeries, type ChunkSeriesSet, type LabelHints, type LabelResult } from '../storage/index.js';

/** MemSample is one float sample as object fields, which keep a NaN's bit pattern (a stale marker). */
export interface MemSample {
  readonly t: number;
  readonly v: number;
}

/**
 * MemSeries is one in-memory series: labels and float samples [t, v] in increasing time order.
 * A `[t, v]` pair cannot carry a stale marker: V8 stores such an array as doubles and canonicalises
 * NaN payloads, so a StaleNaN in a pair is already a plain NaN. Use a MemPointSeries for those.
 */
export interface MemSeries {
  readonly labels: Labels;
  readonly samples: readonly (readonly [number, number])[];
}

/** MemPointSeries is one in-memory series whose samples are MemSample objects (stale markers survive). */
export interface MemPointSeries {
  readonly labels: Labels;
  readonly points: readonly MemSample[];
}

interface Stored {
  readonly labels: Labels;
  readonly chunks: readonly ChunkMeta[];
}

/**
 * MemChunkQueryable is a ChunkQueryable over in-memory float series, cut into XOR chunks the way
 * a Prometheus head does (ChunkCutter). Used by tests, the acceptance suite and small stores.
 * Queriers select series with at least one chunk overlapping their [mint, maxt], sorted by labels.
 */
export class MemChunkQueryable implements ChunkQueryable {
  readonly #series: Stored[];

  constructor(series: readonly (MemSeries | MemPointSeries)[], opts: { samplesPerChunk?: number } = {}) {
    this.#series = series
      .map((s) => {
        const cutter = new ChunkCutter({ samplesPerChunk: opts.samplesPerChunk ?? 120 });
        if ('points' in s) for (const p of s.points) cutter.append(p.t, p.v);
        else for (const [t, v] of s.samples) cutter.append(t, v);
        return { labels: s.labels, chunks: cutter.finish() };
      })
      .sort((a, b) => Labels.compare(a.labels, b.labels));
  }

  /** timeRange returns the min and max sample timestamps held. */
  timeRange(): { minTime: number; maxTime: number } {
    let minTime = Infinity;
    let maxTime = -Infinity;
    for (const s of this.#series) {
      for (const c of s.chunks) {
        minTime = Math.min(minTime, c.minTime);
        maxTime = Math.max(maxTime, c.maxTime);
      }
    }
    return { minTime, maxTime };
  }

  chunkQuerier(mint: number, maxt: number): Promise<ChunkQuerier> {
    const inRange = (s: Stored) => s.chunks.filter((c) => c.maxTime >= mint && c.minTime <= maxt);
    const select = (matchers: readonly Matcher[]): ChunkSeries[] => {
      const out: ChunkSeries[] = [];
      for (const s of this.#series) {
        if (!matchesAll(matchers, (n) => s.labels.get(n))) continue;
        const chunks = inRange(s);
        if (chunks.length === 0) continue;
        out.push({ labels: () => s.labels, chunks: () => chunks });
      }
      return out;
    };
    const limitSorted = (set: Set<string>, hints?: LabelHints): LabelResult => {
      const values = [...set].sort(compareStrings);
      return { values: hints?.limit ? values.slice(0, hints.limit) : values, warnings: [] };
    };
    const querier: ChunkQuerier = {
      select: (_sort, _hints, matchers): Promise<ChunkSeriesSet> => Promise.resolve(new ArraySeriesSet<ChunkSeries>(select(matchers))),
      labelNames: (matchers, hints) => {
        const names = new Set<string>();
        for (const s of select(matchers)) s.labels().forEach((n) => names.add(n));
        return Promise.resolve(limitSorted(names, hints));
      },
      labelValues: (name, matchers, hints) => {
        const values = new Set<string>();
        for (const s of select(matchers)) {
          const v = s.labels().get(name);
          if (v !== '') values.add(v);
        }
        return Promise.resolve(limitSorted(values, hints));
      },
      close: () => Promise.resolve(),
    };
    return Promise.resolve(querier);
  }
}
