/**
 * AggrType names one aggregate of a downsampled (Thanos aggregate) chunk. The numbers are Thanos's
 * `downsample.AggrType` and also the order of the sub-chunks inside the chunk (chunks.md §5).
 */
export const AggrType = {
  Count: 0,
  Sum: 1,
  Min: 2,
  Max: 3,
  Counter: 4,
} as const;
export type AggrType = (typeof AggrType)[keyof typeof AggrType];

/** AGGR_TYPES lists the aggregates in encoding order. */
export const AGGR_TYPES: readonly AggrType[] = [AggrType.Count, AggrType.Sum, AggrType.Min, AggrType.Max, AggrType.Counter];

const names = ['count', 'sum', 'min', 'max', 'counter'] as const;

/** aggrTypeName returns the lower-case name of an aggregate ("count", …, "counter"), as Thanos prints it. */
export function aggrTypeName(t: AggrType): (typeof names)[number] {
  return names[t];
}
