import { Labels } from '../../labels/index.js';
import type { BlockSeriesCursor } from './block-series-cursor.js';

/**
 * CursorHeap is a binary min-heap of block cursors ordered by their head series' labels, ties
 * broken by insertion order (blocks are added in ULID order, so equal series from several blocks
 * come out in ULID order). Every cursor in the heap must have a head. After advancing the top
 * cursor, call fix() (it still has a head) or pop() (it is exhausted).
 */
export class CursorHeap {
  readonly #items: { c: BlockSeriesCursor; order: number }[] = [];
  #n = 0;

  get size(): number {
    return this.#items.length;
  }

  /** push adds a cursor that has a head. */
  push(c: BlockSeriesCursor): void {
    const items = this.#items;
    items.push({ c, order: this.#n++ });
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  /** top is the cursor with the smallest head, or undefined when empty. */
  top(): BlockSeriesCursor | undefined {
    return this.#items[0]?.c;
  }

  /** pop removes the top cursor. */
  pop(): void {
    const items = this.#items;
    const last = items.pop();
    if (items.length === 0 || last === undefined) return;
    items[0] = last;
    this.#down(0);
  }

  /** fix restores the order after the top cursor's head changed. */
  fix(): void {
    this.#down(0);
  }

  /** cursors returns the cursors in the heap (any order). */
  cursors(): BlockSeriesCursor[] {
    return this.#items.map((x) => x.c);
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && this.#less(r, l) ? r : l;
      if (!this.#less(m, i)) return;
      this.#swap(m, i);
      i = m;
    }
  }

  #less(i: number, j: number): boolean {
    const a = this.#items[i]!;
    const b = this.#items[j]!;
    const c = Labels.compare(a.c.head()!.labels, b.c.head()!.labels);
    return c !== 0 ? c < 0 : a.order < b.order;
  }

  #swap(i: number, j: number): void {
    const items = this.#items;
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}
