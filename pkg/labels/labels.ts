import { goQuote } from './go-quote.js';

/** Label is one name/value pair. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

/** MetricName is the reserved label that holds a series' metric name. */
export const MetricName = '__name__';

const emptyArray: readonly string[] = Object.freeze([]);

/**
 * Labels is an immutable, opaque set of labels sorted by name with unique names. The internal
 * representation (a flat array name0, value0, name1, value1, …) is private so it can change.
 *
 * Ordering between label sets (compare) is Prometheus's: pairwise by name then value, byte-wise
 * (UTF-16 code unit order equals UTF-8 byte order for the BMP; label names and values are compared
 * with the same rule Prometheus uses for sorting series), a shorter prefix sorts first.
 */
export class Labels {
  readonly #kv: readonly string[];
  #key: string | undefined;

  private constructor(kv: readonly string[]) {
    this.#kv = kv;
  }

  /** EMPTY is the empty label set. */
  static readonly EMPTY: Labels = new Labels(emptyArray);

  /**
   * fromStrings builds labels from alternating names and values, sorting them; a later duplicate
   * name replaces an earlier one. Empty values drop the label, as in Prometheus.
   */
  static fromStrings(...nv: string[]): Labels {
    if (nv.length % 2 !== 0) throw new RangeError(`Labels.fromStrings needs pairs, got ${nv.length} strings`);
    const pairs: Label[] = [];
    for (let i = 0; i < nv.length; i += 2) pairs.push({ name: nv[i]!, value: nv[i + 1]! });
    return Labels.fromPairs(pairs);
  }

  /** fromRecord builds labels from an object; empty values are dropped. */
  static fromRecord(rec: Readonly<Record<string, string>>): Labels {
    return Labels.fromPairs(Object.entries(rec).map(([name, value]) => ({ name, value })));
  }

  /** fromPairs builds labels from pairs in any order; later duplicates win, empty values drop. */
  static fromPairs(pairs: Iterable<Label>): Labels {
    const m = new Map<string, string>();
    for (const p of pairs) m.set(p.name, p.value);
    const names = [...m.keys()].filter((n) => m.get(n) !== '').sort(compareStrings);
    const kv: string[] = new Array<string>(names.length * 2);
    for (let i = 0; i < names.length; i++) {
      kv[2 * i] = names[i]!;
      kv[2 * i + 1] = m.get(names[i]!)!;
    }
    return new Labels(kv);
  }

  /**
   * fromSortedFlat wraps an already sorted, duplicate-free flat name/value array without copying.
   * The caller must not modify the array afterwards. Used by decoders on hot paths.
   */
  static fromSortedFlat(kv: readonly string[]): Labels {
    return kv.length === 0 ? Labels.EMPTY : new Labels(kv);
  }

  /** size is the number of labels. */
  get size(): number {
    return this.#kv.length >>> 1;
  }

  /** isEmpty reports whether there are no labels. */
  isEmpty(): boolean {
    return this.#kv.length === 0;
  }

  /** get returns the value of name, or '' when absent (Prometheus semantics). */
  get(name: string): string {
    const kv = this.#kv;
    for (let i = 0; i < kv.length; i += 2) {
      if (kv[i] === name) return kv[i + 1]!;
    }
    return '';
  }

  /** has reports whether name is present. */
  has(name: string): boolean {
    const kv = this.#kv;
    for (let i = 0; i < kv.length; i += 2) if (kv[i] === name) return true;
    return false;
  }

  /** nameAt and valueAt read the i-th label in sort order (0 ≤ i < size). */
  nameAt(i: number): string {
    return this.#kv[2 * i]!;
  }

  valueAt(i: number): string {
    return this.#kv[2 * i + 1]!;
  }

  /** forEach calls fn for each label in order. */
  forEach(fn: (name: string, value: string) => void): void {
    const kv = this.#kv;
    for (let i = 0; i < kv.length; i += 2) fn(kv[i]!, kv[i + 1]!);
  }

  /** toArray returns the labels as pairs, in order. */
  toArray(): Label[] {
    const out: Label[] = [];
    this.forEach((name, value) => out.push({ name, value }));
    return out;
  }

  /** toRecord returns the labels as a plain object. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    this.forEach((n, v) => (out[n] = v));
    return out;
  }

  /** flat returns the internal sorted name/value array; callers must not modify it. */
  flat(): readonly string[] {
    return this.#kv;
  }

  /** names returns the label names in order. */
  names(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.#kv.length; i += 2) out.push(this.#kv[i]!);
    return out;
  }

  /** without returns a copy without the given names (and without __name__ if dropName). */
  without(names: Iterable<string>): Labels {
    const drop = names instanceof Set ? (names as Set<string>) : new Set(names);
    const kv = this.#kv;
    const out: string[] = [];
    for (let i = 0; i < kv.length; i += 2) {
      if (!drop.has(kv[i]!)) out.push(kv[i]!, kv[i + 1]!);
    }
    return out.length === kv.length ? this : Labels.fromSortedFlat(out);
  }

  /** keep returns a copy with only the given names. */
  keep(names: Iterable<string>): Labels {
    const keepSet = names instanceof Set ? (names as Set<string>) : new Set(names);
    const kv = this.#kv;
    const out: string[] = [];
    for (let i = 0; i < kv.length; i += 2) {
      if (keepSet.has(kv[i]!)) out.push(kv[i]!, kv[i + 1]!);
    }
    return Labels.fromSortedFlat(out);
  }

  /** withoutMetricName returns the labels without __name__. */
  withoutMetricName(): Labels {
    return this.has(MetricName) ? this.without([MetricName]) : this;
  }

  /** builder returns a LabelsBuilder starting from these labels. */
  builder(): LabelsBuilder {
    return new LabelsBuilder(this);
  }

  /**
   * key returns a string that is equal for equal label sets and different otherwise; usable as a
   * Map key. Computed once and cached.
   */
  key(): string {
    if (this.#key === undefined) this.#key = this.#kv.join('\xff');
    return this.#key;
  }

  /** equals reports whether both sets hold the same labels. */
  equals(o: Labels): boolean {
    const a = this.#kv;
    const b = o.#kv;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** compare orders label sets the way Prometheus sorts series (labels.Compare). */
  static compare(x: Labels, y: Labels): number {
    const a = x.#kv;
    const b = y.#kv;
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i += 2) {
      if (a[i] !== b[i]) return compareStrings(a[i]!, b[i]!);
      if (a[i + 1] !== b[i + 1]) return compareStrings(a[i + 1]!, b[i + 1]!);
    }
    return a.length - b.length;
  }

  /** toString formats the set as Prometheus does: {a="1", b="2"}. */
  toString(): string {
    const parts: string[] = [];
    this.forEach((n, v) => parts.push(`${formatLabelName(n)}=${goQuote(v)}`));
    return `{${parts.join(', ')}}`;
  }
}

/** LabelsBuilder collects changes to a label set and builds a new sorted set. */
export class LabelsBuilder {
  #base: Labels;
  readonly #set = new Map<string, string>();
  readonly #del = new Set<string>();

  constructor(base: Labels = Labels.EMPTY) {
    this.#base = base;
  }

  /** reset starts over from base. */
  reset(base: Labels): this {
    this.#base = base;
    this.#set.clear();
    this.#del.clear();
    return this;
  }

  /** set sets name to value; an empty value deletes the label. */
  set(name: string, value: string): this {
    if (value === '') return this.del(name);
    this.#del.delete(name);
    this.#set.set(name, value);
    return this;
  }

  /** del removes the named labels. */
  del(...names: string[]): this {
    for (const n of names) {
      this.#set.delete(n);
      this.#del.add(n);
    }
    return this;
  }

  /** get returns the current value of name, or ''. */
  get(name: string): string {
    if (this.#del.has(name)) return '';
    return this.#set.get(name) ?? this.#base.get(name);
  }

  /** keep removes every label except the named ones. */
  keep(...names: string[]): this {
    const k = new Set(names);
    this.#base.forEach((n) => {
      if (!k.has(n)) this.del(n);
    });
    for (const n of [...this.#set.keys()]) if (!k.has(n)) this.del(n);
    return this;
  }

  /** build returns the resulting label set. */
  labels(): Labels {
    if (this.#set.size === 0 && this.#del.size === 0) return this.#base;
    const pairs: Label[] = [];
    this.#base.forEach((name, value) => {
      if (!this.#del.has(name) && !this.#set.has(name)) pairs.push({ name, value });
    });
    for (const [name, value] of this.#set) pairs.push({ name, value });
    return Labels.fromPairs(pairs);
  }
}

/**
 * compareStrings compares two strings by their UTF-8 bytes, as Go does. For strings without
 * surrogate pairs this equals UTF-16 code unit order; with astral characters, code point order
 * equals UTF-8 byte order, so compare code points there.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      // Surrogates (0xD800–0xDFFF) encode code points ≥ 0x10000, which sort after 0xE000–0xFFFF
      // in UTF-8 byte order; plain code unit order would put them before.
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb) return sa ? 1 : -1;
      return ca < cb ? -1 : 1;
    }
  }
  return a.length - b.length;
}

const legacyName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** formatLabelName returns name as is when it is a legacy label name, else quoted (UTF-8 names). */
export function formatLabelName(name: string): string {
  return legacyName.test(name) ? name : goQuote(name);
}
