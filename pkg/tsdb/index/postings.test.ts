import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { BigEndianPostings, emptyPostings, ErrPostings, expandPostings, intersect, isEmptyPostings, ListPostings, merge, without, type Postings } from './postings.js';

const sortedSet = fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }).map((a) => a.sort((x, y) => x - y));

function be(list: number[]): BigEndianPostings {
  const b = new Uint8Array(list.length * 4);
  const v = new DataView(b.buffer);
  list.forEach((x, i) => v.setUint32(i * 4, x));
  return new BigEndianPostings(b);
}

const kinds: ((l: number[]) => Postings)[] = [(l) => new ListPostings(l), be];

describe('postings combinators', () => {
  test('intersect, merge and without agree with set operations (property)', () => {
    fc.assert(
      fc.property(fc.array(sortedSet, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 1 }), (lists, k) => {
        const mk = kinds[k]!;
        const inter = lists.reduce((acc, l) => acc.filter((x) => l.includes(x)));
        const union = [...new Set(lists.flat())].sort((a, b) => a - b);
        expect(expandPostings(intersect(...lists.map(mk)))).toEqual(inter);
        expect(expandPostings(merge(...lists.map(mk)))).toEqual(union);
        const diff = lists[0]!.filter((x) => !lists.slice(1).some((l) => l.includes(x)));
        let w = mk(lists[0]!);
        for (const l of lists.slice(1)) w = without(w, mk(l));
        expect(expandPostings(w)).toEqual(diff);
      }),
    );
  });

  test('seek never moves backwards and finds the first value ≥ target (property)', () => {
    fc.assert(
      fc.property(fc.array(sortedSet, { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 320 }), { maxLength: 10 }), (lists, seeks) => {
        const union = [...new Set(lists.flat())].sort((a, b) => a - b);
        const inter = lists.reduce((acc, l) => acc.filter((x) => l.includes(x)));
        for (const [make, want] of [
          [() => merge(...lists.map((l) => be(l))), union],
          [() => intersect(...lists.map((l) => new ListPostings(l))), inter],
        ] as const) {
          const p = make();
          let pos = -1;
          for (const s of seeks) {
            const target = Math.max(s, pos);
            const expected = want.find((x) => x >= target);
            const ok = p.seek(s);
            expect(ok).toBe(expected !== undefined);
            if (!ok) break;
            expect(p.at()).toBe(expected);
            pos = p.at();
          }
        }
      }),
    );
  });

  test('empty sentinel short-circuits and errors propagate', () => {
    expect(isEmptyPostings(intersect(new ListPostings([1, 2]), emptyPostings()))).toBe(true);
    expect(isEmptyPostings(merge(emptyPostings(), emptyPostings()))).toBe(true);
    expect(isEmptyPostings(without(emptyPostings(), new ListPostings([1])))).toBe(true);
    const err = new Error('boom');
    const m = merge(new ListPostings([1, 2]), new ErrPostings(err));
    expect(m.next()).toBe(false);
    expect(m.err()).toBe(err);
    expect(() => expandPostings(intersect(new ListPostings([1]), new ErrPostings(err)))).toThrow('boom');
  });
});
