import { Labels, matchesAll, type Matcher } from '../labels/index.js';

/**
 * storeMatchesSelectors implements Thanos's `storeMatch[]`: a store is used when any selector
 * matches it, where a store is seen as the label sets it advertises plus `__address__` = its name.
 * No selectors means every store.
 */
export function storeMatchesSelectors(address: string, labelSets: readonly Labels[], selectors: readonly (readonly Matcher[])[]): boolean {
  if (selectors.length === 0) return true;
  const sets = labelSets.length === 0 ? [Labels.EMPTY] : labelSets;
  for (const sel of selectors) {
    for (const ls of sets) {
      if (matchesAll(sel, (n) => (n === '__address__' ? address : ls.get(n)))) return true;
    }
  }
  return false;
}
