import { Matcher, MatchType } from '../../labels/index.js';
import { emptyPostings, intersect, isEmptyPostings, without, type Postings } from './postings.js';

/**
 * PostingsSource is what postingsForMatchers needs from an index: IndexReader implements it, and
 * so can remote index readers (store gateway).
 */
export interface PostingsSource {
  /** allPostings returns every series. */
  allPostings(): Postings;
  /** postings returns the union of the lists of name=v for each value (absent values ignored). */
  postings(name: string, ...values: string[]): Postings;
  /**
   * postingsForLabelMatching returns the union of the lists of the values of name accepted by
   * match; `prefix`, when given, is a string every accepted value starts with (a hint to skip).
   */
  postingsForLabelMatching(name: string, match: (value: string) => boolean, prefix?: string): Postings;
  /** postingsForAllLabelValues returns every series having the label name. */
  postingsForAllLabelValues(name: string): Postings;
}

const isNot = (m: Matcher): boolean => m.type === MatchType.NotEqual || m.type === MatchType.NotRegexp;

/**
 * postingsForMatchers returns the sorted references of the series matching every matcher, with
 * Prometheus's semantics (tsdb/querier.go PostingsForMatchers):
 * - a matcher that matches "" also selects series without the label (l="", l!="a", l=~"a|");
 *   such matchers are applied by subtracting the series the matcher rejects;
 * - `!=` / `!~` on a label that must be set anyway are subtractions too;
 * - when only subtractions are given the base is all postings;
 * - `=~` with a literal alternation (Matcher.setMatches) reads just those lists, other regexps
 *   scan the sorted values of the name in the postings offset table.
 * An empty matcher list selects nothing.
 */
export function postingsForMatchers(ix: PostingsSource, matchers: readonly Matcher[]): Postings {
  if (matchers.length === 0) return emptyPostings();
  if (matchers.length === 1 && matchers[0]!.name === '' && matchers[0]!.value === '') return ix.allPostings();

  const mustBeSet = new Set<string>();
  for (const m of matchers) if (!m.matchesEmpty()) mustBeSet.add(m.name);
  const subtracting = (m: Matcher): boolean => !mustBeSet.has(m.name) || (isNot(m) && m.matchesEmpty());

  const its: Postings[] = [];
  const notIts: Postings[] = [];
  let hasIntersecting = false;
  for (const m of matchers) if (!subtracting(m)) hasIntersecting = true;
  if (!hasIntersecting) its.push(ix.allPostings());

  // Intersecting matchers first, so an empty result short-circuits before reading subtractions.
  const ordered = [...matchers].sort((a, b) => Number(subtracting(a)) - Number(subtracting(b)));
  for (const m of ordered) {
    if (m.name === '' && m.value === '') {
      its.push(ix.allPostings());
    } else if (mustBeSet.has(m.name)) {
      const matchesEmpty = m.matchesEmpty();
      if (isNot(m) && matchesEmpty) {
        // l!="foo" with l set anyway: subtract l="foo".
        notIts.push(positivePostings(ix, m, true));
      } else if (isNot(m)) {
        // l!="" / l!~"|a": series having l with a value the inverse (l="", l=~"|a") rejects.
        const it = inversePostings(ix, new Matcher(invert(m.type), m.name, m.value));
        if (isEmptyPostings(it)) return emptyPostings();
        its.push(it);
      } else {
        const it = positivePostings(ix, m, false);
        if (isEmptyPostings(it)) return emptyPostings();
        its.push(it);
      }
    } else {
      // l="", l=~"", l!="a", l!~"a": subtract the series that have l with a rejected value.
      notIts.push(inversePostings(ix, m));
    }
  }
  let it = intersect(...its);
  for (const n of notIts) it = without(it, n);
  return it;
}

/** Series whose value of m.name satisfies m (inverted: satisfies the inverse of m). Never absent labels. */
function positivePostings(ix: PostingsSource, m: Matcher, inverted: boolean): Postings {
  const type = inverted ? invert(m.type) : m.type;
  if (type === MatchType.Equal) return ix.postings(m.name, m.value);
  if (type === MatchType.Regexp) {
    const set = m.setMatches();
    if (set !== undefined && set.length > 0) return ix.postings(m.name, ...set);
  }
  return ix.postingsForLabelMatching(m.name, inverted ? (v) => !m.matches(v) : (v) => m.matches(v), type === MatchType.Regexp ? literalPrefix(m.value) : '');
}

/** Series that have label m.name with a value m rejects. */
function inversePostings(ix: PostingsSource, m: Matcher): Postings {
  if (m.type === MatchType.NotRegexp) {
    const set = m.setMatches();
    if (set !== undefined && set.length > 0) return ix.postings(m.name, ...set);
  }
  if (m.type === MatchType.NotEqual) return ix.postings(m.name, m.value);
  if (m.value === '' && (m.type === MatchType.Equal || m.type === MatchType.Regexp)) return ix.postingsForAllLabelValues(m.name);
  return ix.postingsForLabelMatching(m.name, (v) => !m.matches(v));
}

function invert(t: MatchType): MatchType {
  switch (t) {
    case MatchType.Equal:
      return MatchType.NotEqual;
    case MatchType.NotEqual:
      return MatchType.Equal;
    case MatchType.Regexp:
      return MatchType.NotRegexp;
    case MatchType.NotRegexp:
      return MatchType.Regexp;
  }
}

/**
 * literalPrefix returns a string every value matched by the (fully anchored) regexp starts with:
 * its leading literal characters. Conservative: '' when the pattern has a '|' anywhere, starts
 * with a group/flag/class, or begins with something else than a plain character; a literal
 * followed by a quantifier that allows zero repetitions is not part of the prefix.
 */
export function literalPrefix(re: string): string {
  if (re.includes('|')) return '';
  let i = 0;
  while (i < re.length && !'\\.+*?()[]{}^$'.includes(re[i]!)) i++;
  let prefix = re.slice(0, i);
  const next = re[i];
  if (next === '*' || next === '?' || next === '{') prefix = prefix.slice(0, -1);
  // A surrogate pair must not be split.
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) prefix = prefix.slice(0, -1);
  return prefix;
}
