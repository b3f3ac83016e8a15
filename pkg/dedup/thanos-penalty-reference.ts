import type { ReferenceReplica } from './brute-force-reference.js';

/**
 * thanosPenaltyTimestamps implements the Thanos penalty dedup of two replicas as described in
 * the spec (algorithms.md §1.3), timestamps only, for tests that show which properties Thanos's
 * algorithm violates and ours keeps. Not exported from the package index.
 */
export function thanosPenaltyTimestamps(a: ReferenceReplica, b: ReferenceReplica): number[] {
  const out: number[] = [];
  let ia = 0;
  let ib = 0;
  let lastT = -Infinity;
  let penA = 0;
  let penB = 0;
  const seek = (ts: readonly number[], i: number, t: number): number => {
    while (i < ts.length && ts[i]! < t) i++;
    return i;
  };
  for (;;) {
    if (lastT !== -Infinity) {
      if (ia < a.ts.length) ia = seek(a.ts, ia, lastT + 1 + penA);
      if (ib < b.ts.length) ib = seek(b.ts, ib, lastT + 1 + penB);
    }
    const ta = a.ts[ia];
    const tb = b.ts[ib];
    if (ta === undefined && tb === undefined) return out;
    if (ta === undefined || (tb !== undefined && tb < ta)) {
      penA = lastT === -Infinity ? 5000 : 2 * (tb! - lastT);
      if (ta === undefined) penA = 0;
      penB = 0;
      lastT = tb!;
    } else {
      penB = lastT === -Infinity ? 5000 : 2 * (ta - lastT);
      if (tb === undefined) penB = 0;
      penA = 0;
      lastT = ta;
    }
    out.push(lastT);
  }
}
