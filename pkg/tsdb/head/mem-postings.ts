import type { Labels } from '../../labels/index.js';
import { ListPostings, emptyPostings, merge, type Postings, type PostingsSource } from '../index/index.js';

/**
 * MemPostings is the head's inverted index: for each label name and value the sorted list of
 * series references holding it. References grow with series creation, so adding is an append.
 */
export class MemPostings implements PostingsSource {
  readonly #m = new Map<string, Map<string, number[]>>();
  #all: number[] = [];

  add(ref: number, labels: Labels): void {
    this.#all.push(ref);
    labels.forEach((name, value) => {
      let values = this.#m.get(name);
      if (values === undefined) this.#m.set(name, (values = new Map()));
      const list = values.get(value);
      if (list === undefined) values.set(value, [ref]);
      else list.push(ref);
    });
  }

  /** delete removes the given references from every list (after head truncation). */
  delete(refs: ReadonlySet<number>, labelsOf: (ref: number) => Labels | undefined): void {
    if (refs.size === 0) return;
    this.#all = this.#all.filter((r) => !refs.has(r));
    const touched = new Set<string>();
    for (const r of refs) labelsOf(r)?.forEach((n) => touched.add(n));
    for (const name of touched) {
      const values = this.#m.get(name)!;
      for (const [v, list] of values) {
        const kept = list.filter((r) => !refs.has(r));
        if (kept.length === 0) values.delete(v);
        else if (kept.length !== list.length) values.set(v, kept);
      }
      if (values.size === 0) this.#m.delete(name);
    }
  }

  /** labelNames returns every label name (unsorted). */
  labelNames(): IterableIterator<string> {
    return this.#m.keys();
  }

  /** labelValues returns the values of name (unsorted). */
  labelValues(name: string): Iterable<string> {
    return this.#m.get(name)?.keys() ?? [];
  }

  allPostings(): Postings {
    return new ListPostings(this.#all);
  }

  postings(name: string, ...values: string[]): Postings {
    const m = this.#m.get(name);
    if (m === undefined) return emptyPostings();
    const its: Postings[] = [];
    for (const v of values) {
      const l = m.get(v);
      if (l !== undefined) its.push(new ListPostings(l));
    }
    return merge(...its);
  }

  postingsForLabelMatching(name: string, match: (value: string) => boolean): Postings {
    const m = this.#m.get(name);
    if (m === undefined) return emptyPostings();
    const its: Postings[] = [];
    for (const [v, l] of m) if (match(v)) its.push(new ListPostings(l));
    return merge(...its);
  }

  postingsForAllLabelValues(name: string): Postings {
    return this.postingsForLabelMatching(name, () => true);
  }
}
