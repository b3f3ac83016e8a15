import type { BlockMeta } from '../tsdb/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * COMPACTION_LEVELS are Thanos's compaction ranges in ms, [1h, 2h, 8h, 2d, 14d]
 * (cmd/thanos/compact.go). The planner skips the first entry, so blocks are merged into aligned
 * 8h, 2d and 14d ranges; the middle entry (8h) is the minimum range for tombstone rewrites.
 */
export const COMPACTION_LEVELS: readonly number[] = [HOUR, 2 * HOUR, 8 * HOUR, 2 * DAY, 14 * DAY];

/**
 * compactionLevels returns the ranges up to maxLevel (Thanos's --debug.max-compaction-level,
 * default 4 = 14d).
 */
export function compactionLevels(maxLevel = COMPACTION_LEVELS.length - 1): number[] {
  if (!Number.isInteger(maxLevel) || maxLevel < 0 || maxLevel >= COMPACTION_LEVELS.length) {
    throw new RangeError(`compaction level ${maxLevel} is outside 0..${COMPACTION_LEVELS.length - 1}`);
  }
  return COMPACTION_LEVELS.slice(0, maxLevel + 1);
}

/**
 * planCompaction picks the blocks of one compaction group to merge next, as Thanos's
 * tsdbBasedPlanner does (algorithms.md §2.3). metasByMinTime must be sorted by minTime; ranges
 * are the compaction levels (COMPACTION_LEVELS form, the first entry is skipped); excluded tells
 * which blocks carry a no-compact mark. Returns the plan in minTime order, or [] when there is
 * nothing to do.
 *
 * Order: overlapping blocks first (vertical compaction); else the first aligned range bucket of
 * ≥2 blocks that is complete or lies before the newest block; else a single block of at least the
 * middle range whose tombstones exceed 5 % of its series.
 */
export function planCompaction(metasByMinTime: readonly BlockMeta[], ranges: readonly number[], excluded: (ulid: string) => boolean = () => false): BlockMeta[] {
  if (metasByMinTime.length === 0) return [];
  const notExcluded = metasByMinTime.filter((m) => !excluded(m.ulid));
  const overlapping = selectOverlapping(notExcluded);
  if (overlapping.length > 0) return overlapping;

  // Leave the newest block (largest minTime) out: it may be the one just uploaded, and a range
  // ending there may still grow.
  const newest = metasByMinTime[metasByMinTime.length - 1]!;
  const candidates = excluded(newest.ulid) ? notExcluded : notExcluded.slice(0, -1);
  const byRange = selectRange(ranges, excluded, metasByMinTime.slice(0, -1));
  if (byRange.length > 0) return byRange;

  // Rewrite a big enough block with many tombstones (deleted series).
  const minRange = ranges[Math.floor(ranges.length / 2)] ?? 0;
  for (let i = candidates.length - 1; i >= 0; i--) {
    const m = candidates[i]!;
    if (m.maxTime - m.minTime < minRange) break;
    if ((m.stats.numTombstones ?? 0) / ((m.stats.numSeries ?? 0) + 1) > 0.05) return [m];
  }
  return [];
}

/**
 * selectOverlapping returns the first run of blocks (sorted by minTime) whose time ranges
 * overlap, including the block the first overlap starts in; [] when none overlap.
 */
export function selectOverlapping(metasByMinTime: readonly BlockMeta[]): BlockMeta[] {
  const out: BlockMeta[] = [];
  if (metasByMinTime.length < 2) return out;
  let globalMax = metasByMinTime[0]!.maxTime;
  for (let i = 1; i < metasByMinTime.length; i++) {
    const m = metasByMinTime[i]!;
    if (m.minTime < globalMax) {
      if (out.length === 0) out.push(metasByMinTime[i - 1]!);
      out.push(m);
    } else if (out.length > 0) {
      break;
    }
    if (m.maxTime > globalMax) globalMax = m.maxTime;
  }
  return out;
}

function selectRange(ranges: readonly number[], excluded: (ulid: string) => boolean, metasByMinTime: readonly BlockMeta[]): BlockMeta[] {
  if (ranges.length < 2 || metasByMinTime.length < 1) return [];
  const highTime = metasByMinTime[metasByMinTime.length - 1]!.minTime;
  for (const r of ranges.slice(1)) {
    for (const part of splitByRange(metasByMinTime, r)) {
      if (part.some((m) => m.compaction.failed === true)) continue;
      if (part.length < 2) continue;
      const mint = part[0]!.minTime;
      const maxt = part[part.length - 1]!.maxTime;
      // A partial range that reaches past the newest block's start may still get more blocks.
      if (maxt - mint !== r && maxt > highTime) continue;
      // Use the runs between no-compact-marked blocks, so that no gap appears.
      let lastExcluded = 0;
      for (let i = 0; i < part.length; i++) {
        if (!excluded(part[i]!.ulid)) continue;
        if (i - lastExcluded > 1) return part.slice(lastExcluded, i);
        lastExcluded = i + 1;
      }
      if (part.length - lastExcluded > 1) return part.slice(lastExcluded);
    }
  }
  return [];
}

/**
 * splitByRange splits blocks sorted by minTime into runs that fit one epoch-aligned range of
 * size tr (floor toward −∞ for negative times). A block larger than its aligned range is
 * skipped. E.g. [0-10, 10-20, 50-60, 90-100] with tr=30 → [0-10, 10-20], [50-60], [90-100].
 */
export function splitByRange(metasByMinTime: readonly BlockMeta[], tr: number): BlockMeta[][] {
  const out: BlockMeta[][] = [];
  let i = 0;
  while (i < metasByMinTime.length) {
    const m = metasByMinTime[i]!;
    const t0 = Math.floor(m.minTime / tr) * tr;
    if (m.maxTime > t0 + tr) {
      i++;
      continue;
    }
    const group: BlockMeta[] = [];
    for (; i < metasByMinTime.length; i++) {
      if (metasByMinTime[i]!.maxTime > t0 + tr) break;
      group.push(metasByMinTime[i]!);
    }
    if (group.length > 0) out.push(group);
  }
  return out;
}
