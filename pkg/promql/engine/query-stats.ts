/**
 * SamplesStats counts what Prometheus's `stats` reports about samples: the samples the query's
 * selectors read (totalQueryableSamples, per step when asked for) and the most samples held in
 * memory at once (peakSamples).
 */
export class SamplesStats {
  totalQueryableSamples = 0;
  peakSamples = 0;
  /** perStep[i] is the samples read for step i (range queries with per-step stats), else null. */
  readonly perStep: Float64Array | null;
  readonly #start: number;
  readonly #interval: number;

  constructor(start: number, interval: number, steps: number, perStep: boolean) {
    this.#start = start;
    this.#interval = interval;
    this.perStep = perStep ? new Float64Array(steps) : null;
  }

  /** addAt counts n samples read for the evaluation at ts (ms). */
  addAt(ts: number, n: number): void {
    this.totalQueryableSamples += n;
    const p = this.perStep;
    if (p === null) return;
    const i = this.#interval > 0 ? Math.floor((ts - this.#start) / this.#interval) : 0;
    if (i >= 0 && i < p.length) p[i] = p[i]! + n;
  }
}

/** QueryTimings are Prometheus's `stats.timings`, in seconds. */
export interface QueryTimings {
  readonly evalTotalTime: number;
  readonly resultSortTime: number;
  readonly queryPreparationTime: number;
  readonly innerEvalTime: number;
  readonly execQueueTime: number;
  readonly execTotalTime: number;
}

/** QueryStats is what a query measured about itself (Prometheus's `stats`, less the queue time its caller knows). */
export interface QueryStats {
  readonly timings: Omit<QueryTimings, 'execQueueTime' | 'execTotalTime'>;
  readonly samples: {
    readonly totalQueryableSamples: number;
    readonly peakSamples: number;
    /** totalQueryableSamplesPerStep as [seconds, samples] pairs (range queries, when asked for). */
    readonly totalQueryableSamplesPerStep?: readonly (readonly [number, number])[];
  };
}
