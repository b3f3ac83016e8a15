import { type Labels, Matcher } from '../labels/index.js';
import type { LabelMatcher } from '../storepb/index.js';
import { GrpcCode, StoreError } from './store-error.js';

/** toMatchers compiles wire matchers; a bad regexp is an InvalidArgument StoreError. */
export function toMatchers(ms: readonly LabelMatcher[] | undefined): Matcher[] {
  const out: Matcher[] = [];
  for (const m of ms ?? []) {
    if (m instanceof Matcher) {
      out.push(m);
      continue;
    }
    try {
      out.push(new Matcher(m.type, m.name, m.value));
    } catch (err) {
      throw new StoreError(GrpcCode.InvalidArgument, `parse matcher ${m.name}: ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
}

/**
 * matchExternalLabels evaluates the matchers that name external labels against them. It returns
 * undefined when one of them does not match (the store has no data for the request), else the
 * remaining matchers to run against the underlying data.
 */
export function matchExternalLabels(matchers: readonly Matcher[], ext: Labels): Matcher[] | undefined {
  const rest: Matcher[] = [];
  for (const m of matchers) {
    if (ext.has(m.name)) {
      if (!m.matches(ext.get(m.name))) return undefined;
    } else rest.push(m);
  }
  return rest;
}

/**
 * labelSetsMatch reports whether a store advertising labelSets can hold series matching the
 * matchers: true when it advertises none, or when at least one set does not conflict. A set
 * conflicts when a matcher names a label the set has and the value does not match.
 */
export function labelSetsMatch(matchers: readonly Matcher[], labelSets: readonly Labels[]): boolean {
  if (labelSets.length === 0) return true;
  for (const ls of labelSets) {
    let ok = true;
    for (const m of matchers) {
      if (ls.has(m.name) && !m.matches(ls.get(m.name))) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

/**
 * storeMatches is the querier's store selection: the store's [minTime, maxTime] must overlap the
 * request's and its external label sets must not all conflict with the matchers.
 */
export function storeMatches(
  store: { readonly minTime: number; readonly maxTime: number; readonly labelSets: readonly Labels[] },
  minTime: number,
  maxTime: number,
  matchers: readonly Matcher[],
): boolean {
  if (minTime > store.maxTime || maxTime < store.minTime) return false;
  return labelSetsMatch(matchers, store.labelSets);
}
