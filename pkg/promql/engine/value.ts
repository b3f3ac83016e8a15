import type { FloatHistogram } from '../../histogram/index.js';
import type { Labels } from '../../labels/index.js';
import type { Floats } from './floats.js';

/** FPoint is one float sample of a series in a Matrix. */
export interface FPoint {
  t: number;
  f: number;
}

/** HPoint is one native histogram sample of a series in a Matrix. */
export interface HPoint {
  t: number;
  h: FloatHistogram;
}

/**
 * Sample is one element of an instant vector: a series' labels with one float (`h` undefined) or
 * one native histogram (`h` set; `f` is then 0). `dropName` marks a sample whose metric name must
 * be removed at the end of evaluation (delayed name removal).
 */
export interface Sample {
  metric: Labels;
  t: number;
  f: number;
  h: FloatHistogram | undefined;
  dropName: boolean;
}

/** Vector is an instant vector: samples at one timestamp. */
export type Vector = Sample[];

/**
 * Series is one series of a Matrix: floats (typed arrays) and histograms, each sorted by time (a
 * timestamp appears in at most one of the two).
 */
export interface Series {
  metric: Labels;
  floats: Floats;
  histograms: HPoint[];
  dropName: boolean;
}

/** Matrix is a range vector (or the result of a range query): series sorted by labels on output. */
export type Matrix = Series[];

/** Scalar is a single float at a timestamp. */
export interface Scalar {
  t: number;
  v: number;
}

/** StringValue is a string result at a timestamp. */
export interface StringValue {
  t: number;
  v: string;
}

/** ValueKind tags the result of a query. */
export type QueryValue =
  | { readonly type: 'vector'; readonly value: Vector }
  | { readonly type: 'matrix'; readonly value: Matrix }
  | { readonly type: 'scalar'; readonly value: Scalar }
  | { readonly type: 'string'; readonly value: StringValue };
