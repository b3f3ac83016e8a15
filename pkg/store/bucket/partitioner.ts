/** ByteRange is a half-open byte range [start, end) of an object. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** Part is one coalesced read covering the input ranges elems[first..last] (inclusive). */
export interface Part {
  readonly start: number;
  readonly end: number;
  readonly first: number;
  readonly last: number;
}

/**
 * partitionRanges coalesces ranges sorted by start into reads: a range is merged into the current
 * read when it starts at most maxGap bytes after the read's end (Thanos's gapBasedPartitioner,
 * 512 KiB by default). Overlapping and nested ranges are merged too. Each part records which input
 * ranges it covers.
 */
export function partitionRanges(ranges: readonly ByteRange[], maxGap: number): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < ranges.length) {
    const first = i;
    const start = ranges[i]!.start;
    let end = ranges[i]!.end;
    i++;
    while (i < ranges.length && ranges[i]!.start <= end + maxGap) {
      if (ranges[i]!.end > end) end = ranges[i]!.end;
      i++;
    }
    parts.push({ start, end, first, last: i - 1 });
  }
  return parts;
}
