/** TimedBlock is what block selection needs: a time range [minTime, maxTime) and a resolution. */
export interface TimedBlock {
  readonly minTime: number;
  readonly maxTime: number;
  readonly resolution: number;
}

/**
 * selectByResolution picks the blocks of one external-label set that serve [mint, maxt] with
 * resolution at most maxResolution (algorithms.md §5.2): the coarsest allowed level first, gaps
 * before, between and after its blocks filled recursively from finer levels. Blocks are returned
 * in selection order.
 */
export function selectByResolution<B extends TimedBlock>(blocks: readonly B[], mint: number, maxt: number, maxResolution: number): B[] {
  const levels = [...new Set(blocks.map((b) => b.resolution))].filter((r) => r <= maxResolution).sort((a, b) => b - a);
  const byLevel = new Map<number, B[]>();
  for (const b of blocks) {
    let l = byLevel.get(b.resolution);
    if (l === undefined) byLevel.set(b.resolution, (l = []));
    l.push(b);
  }
  for (const l of byLevel.values()) l.sort((a, b) => a.minTime - b.minTime);
  const out: B[] = [];
  const fill = (lo: number, hi: number, li: number): void => {
    if (li >= levels.length || lo > hi) return;
    let start = lo;
    for (const b of byLevel.get(levels[li]!)!) {
      // Against lo, not start: blocks overlapping one already taken are taken too (their series
      // may differ), as Thanos's bucketBlockSet.getFor does.
      if (b.maxTime <= lo) continue;
      if (b.minTime > hi) break;
      if (b.minTime > start) fill(start, b.minTime - 1, li + 1);
      out.push(b);
      if (b.maxTime > start) start = b.maxTime;
    }
    fill(start, hi, li + 1);
  };
  fill(mint, maxt, 0);
  return out;
}
