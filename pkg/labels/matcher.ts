import { RE2JS } from 're2js';
import { TesseraError } from '../errors/index.js';
import { goQuote } from './go-quote.js';
import { formatLabelName } from './labels.js';

/** MatchType is the kind of a label matcher, numbered as in Prometheus (labels.MatchType). */
export const MatchType = {
  Equal: 0,
  NotEqual: 1,
  Regexp: 2,
  NotRegexp: 3,
} as const;
export type MatchType = (typeof MatchType)[keyof typeof MatchType];

const opText: Record<MatchType, string> = { 0: '=', 1: '!=', 2: '=~', 3: '!~' };

/**
 * Matcher tests a label value. Regular expressions use RE2 syntax and semantics (linear time,
 * re2js), are fully anchored and, as in Prometheus 3.x, `.` also matches a newline.
 */
export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  readonly #re: RE2JS | undefined;
  readonly #set: ReadonlySet<string> | undefined;

  constructor(type: MatchType, name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    if (type === MatchType.Regexp || type === MatchType.NotRegexp) {
      this.#set = literalAlternation(value);
      if (this.#set === undefined) {
        try {
          this.#re = RE2JS.compile(`^(?s:${value})$`);
        } catch (err) {
          throw new TesseraError('TESSERA_BAD_REGEXP', `error parsing regexp: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  }

  /** matches reports whether v satisfies the matcher. A missing label is the empty string. */
  matches(v: string): boolean {
    switch (this.type) {
      case MatchType.Equal:
        return v === this.value;
      case MatchType.NotEqual:
        return v !== this.value;
      case MatchType.Regexp:
        return this.#matchRe(v);
      case MatchType.NotRegexp:
        return !this.#matchRe(v);
    }
  }

  #matchRe(v: string): boolean {
    if (this.#set !== undefined) return this.#set.has(v);
    return this.#re!.matches(v);
  }

  /**
   * setMatches returns the exact values a regexp matcher can match when the pattern is a plain
   * alternation of literals (`a|b|c`), else undefined. Index readers use it to skip scanning.
   */
  setMatches(): readonly string[] | undefined {
    return this.#set === undefined ? undefined : [...this.#set];
  }

  /** matchesEmpty reports whether the matcher accepts the empty string (an absent label). */
  matchesEmpty(): boolean {
    return this.matches('');
  }

  /** toString prints the matcher as in PromQL: name="value". */
  toString(): string {
    return `${formatLabelName(this.name)}${opText[this.type]}${goQuote(this.value)}`;
  }
}

/** Parses `a|b|c` made only of literal characters; undefined if any regexp syntax is present. */
function literalAlternation(re: string): ReadonlySet<string> | undefined {
  if (/[\\.+*?()[\]{}^$]/.test(re)) return undefined;
  return new Set(re.split('|'));
}

/** matchesAll reports whether a label set (given as a getter) satisfies every matcher. */
export function matchesAll(matchers: readonly Matcher[], get: (name: string) => string): boolean {
  for (const m of matchers) if (!m.matches(get(m.name))) return false;
  return true;
}
