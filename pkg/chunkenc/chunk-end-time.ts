/** rangeForTimestamp is the end of the chunk range of width `width` that t falls in (Go integer division truncates toward zero). */
export function rangeForTimestamp(t: number, width: number): number {
  return Math.trunc(t / width) * width + width;
}

/**
 * computeChunkEndTime spreads the rest of a chunk range over equally sized chunks (Prometheus's
 * head_append.go): start and cur are the open chunk's first and newest timestamps, maxT the current
 * end estimate, ratioToFull how far the chunk is from its target (4 at a quarter filled).
 */
export function computeChunkEndTime(start: number, cur: number, maxT: number, ratioToFull: number): number {
  const n = (maxT - start) / ((cur - start + 1) * ratioToFull);
  if (n <= 1) return maxT;
  return Math.trunc(start + (maxT - start) / Math.floor(n));
}
