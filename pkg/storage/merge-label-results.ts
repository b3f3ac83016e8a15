import { compareStrings } from '../labels/index.js';
import type { LabelHints, LabelResult } from './interface.js';

/**
 * mergeLabelResults is the union of several queriers' label names or values: sorted, unique, cut
 * to hints.limit (0 or unset: all), with the warnings of all of them, each once.
 */
export function mergeLabelResults(results: readonly LabelResult[], hints: LabelHints | undefined): LabelResult {
  const set = new Set<string>();
  const warnings: string[] = [];
  for (const r of results) {
    for (const v of r.values) set.add(v);
    for (const w of r.warnings) if (!warnings.includes(w)) warnings.push(w);
  }
  let values = [...set].sort(compareStrings);
  const limit = hints?.limit ?? 0;
  if (limit > 0 && values.length > limit) values = values.slice(0, limit);
  return { values, warnings };
}
