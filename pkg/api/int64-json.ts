/**
 * int64Json writes an int64 held in a number as JSON number text. Go's int64 extremes do not fit a
 * double: 9223372036854775807 reads back as 2^63, which JSON.stringify prints as
 * 9223372036854776000, a number Go (and Thanos) clients refuse to read into an int64. Values at
 * or beyond the extremes are written as the exact extremes; other values as JSON.stringify does.
 */
export function int64Json(n: number): string {
  if (n >= 9223372036854775807) return '9223372036854775807';
  if (n <= -9223372036854775808) return '-9223372036854775808';
  return Number.isFinite(n) ? String(Math.trunc(n)) : '0';
}
