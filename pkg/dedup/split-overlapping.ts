/**
 * splitOverlapping distributes the chunks of one series (ordered by minTime, possibly overlapping,
 * e.g. one store returning the chunks of several replicas or blocks) into non-overlapping lists,
 * as Thanos's overlapSplitSet: each chunk goes to the first list whose last chunk ends before the
 * chunk starts (maxTime < minTime), else to a new list. Each list can then be read as one replica
 * series and merged with DedupIterator. Chunks must be ordered by minTime; the lists keep that order.
 */
export function splitOverlapping<C extends { readonly minTime: number; readonly maxTime: number }>(chunks: readonly C[]): C[][] {
  const lists: C[][] = [];
  outer: for (const c of chunks) {
    for (const l of lists) {
      if (l[l.length - 1]!.maxTime < c.minTime) {
        l.push(c);
        continue outer;
      }
    }
    lists.push([c]);
  }
  return lists;
}
