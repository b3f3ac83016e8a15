import type { FloatHistogram } from '../../histogram/index.js';
import type { Call, PositionRange } from '../parser/index.js';
import type { Annotation } from './annotations.js';
import type { Vector } from './value.js';

/**
 * EvalHelper is what a function sees of the evaluator at one step: the step time, the annotation
 * sink and query-level facts. One helper is reused across steps (no per-step allocation).
 */
export interface EvalHelper {
  /** ts is the evaluation timestamp of the current step (ms). */
  ts: number;
  /** start, end, interval of the current evaluator (subqueries have their own). */
  readonly start: number;
  readonly end: number;
  readonly interval: number;
  /** queryStart, queryEnd and queryStep (0 for instant queries) of the top-level query. */
  readonly queryStart: number;
  readonly queryEnd: number;
  readonly queryStep: number;
  /** isRangeQuery is true when the top-level query is a range query. */
  readonly isRangeQuery: boolean;
  annotate(a: Annotation): void;
}

/** InstantFn implements a function over instant vectors; args[i] is empty for string args. */
export type InstantFn = (args: Vector[], call: Call, enh: EvalHelper) => Vector;

/**
 * RangeWindow is the part of one series inside a matrix selector's window at one step: floats in
 * fts/fvs[flo, fhi) and histograms in hts/hvs[hlo, hhi), both in time order.
 */
export interface RangeWindow {
  fts: Float64Array;
  fvs: Float64Array;
  flo: number;
  fhi: number;
  hts: Float64Array;
  hvs: FloatHistogram[];
  hlo: number;
  hhi: number;
  /** rangeStart (exclusive) and rangeEnd (inclusive) of the window, ms. */
  rangeStart: number;
  rangeEnd: number;
  /** range of the selector in ms. */
  range: number;
  metricName: string;
  /** pos is the position of the matrix argument (for annotations). */
  pos: PositionRange;
  /**
   * Counter-reset cursor for rate and increase, when resetsKnown: fn is the series' float count,
   * and no index in [resetFrom, resetNext) has a drop (fvs[i] < fvs[i-1]); resetNext is a drop's
   * index, or fn when there is none after resetFrom. Windows move forward, so each series is
   * scanned about once in all, and a window without a drop skips its per-sample scan.
   */
  fn: number;
  resetFrom: number;
  resetNext: number;
  resetsKnown: boolean;
}

/**
 * RangeFn implements a function over one series' window. scalars holds the values of the other
 * (scalar) arguments at this step, in argument order. Returns a float, a histogram, or undefined
 * for no output at this step.
 */
export type RangeFn = (w: RangeWindow, scalars: readonly number[], call: Call, enh: EvalHelper) => number | FloatHistogram | undefined;
