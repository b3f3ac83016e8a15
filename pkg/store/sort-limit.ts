import { compareStrings } from '../labels/index.js';

/** sortLimit sorts label names or values in place and keeps the first `limit` (undefined or ≤ 0: all). */
export function sortLimit(v: string[], limit: number | undefined): string[] {
  v.sort(compareStrings);
  return limit !== undefined && limit > 0 && v.length > limit ? v.slice(0, limit) : v;
}
