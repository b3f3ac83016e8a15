/**
 * Postings is a pull iterator over strictly increasing series references (index offset / 16).
 *
 * Contract:
 * - next() advances to the next reference; false at the end or on error (then err() tells).
 * - seek(v) advances to the first reference ≥ v and reports whether there is one. It never moves
 *   backwards: if the current reference is already ≥ v it stays. seek may be called before next.
 * - at() is valid only after next() or seek() returned true.
 * - Iterators are single-use and not safe to share between consumers.
 */
export interface Postings {
  next(): boolean;
  seek(v: number): boolean;
  at(): number;
  err(): Error | null;
}

class EmptyPostingsImpl implements Postings {
  next(): boolean {
    return false;
  }
  seek(): boolean {
    return false;
  }
  at(): number {
    throw new RangeError('at() called on empty postings');
  }
  err(): null {
    return null;
  }
}

const emptyPostingsSingleton: Postings = new EmptyPostingsImpl();

/** emptyPostings returns the shared empty sentinel; combinators short-circuit on it. */
export function emptyPostings(): Postings {
  return emptyPostingsSingleton;
}

/** isEmptyPostings reports whether p is the empty sentinel (not merely an exhausted iterator). */
export function isEmptyPostings(p: Postings): boolean {
  return p === emptyPostingsSingleton;
}

/** ErrPostings yields nothing and reports err. */
export class ErrPostings implements Postings {
  readonly #err: Error;
  constructor(err: Error) {
    this.#err = err;
  }
  next(): boolean {
    return false;
  }
  seek(): boolean {
    return false;
  }
  at(): number {
    throw new RangeError('at() called on failed postings');
  }
  err(): Error {
    return this.#err;
  }
}

/** ListPostings iterates an in-memory sorted array of references (not copied). */
export class ListPostings implements Postings {
  readonly #list: ArrayLike<number>;
  #i = -1;

  constructor(list: ArrayLike<number>) {
    this.#list = list;
  }

  next(): boolean {
    if (this.#i < this.#list.length) this.#i++;
    return this.#i < this.#list.length;
  }

  seek(v: number): boolean {
    const l = this.#list;
    let i = this.#i < 0 ? 0 : this.#i;
    if (i >= l.length) return false;
    if (l[i]! >= v) {
      this.#i = i;
      return true;
    }
    // Binary search in (i, len) for the first element ≥ v.
    let lo = i + 1;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (l[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    this.#i = lo;
    return lo < l.length;
  }

  at(): number {
    return this.#list[this.#i]!;
  }

  err(): null {
    return null;
  }
}

/**
 * BigEndianPostings iterates the entries of an encoded postings list: `data` holds n BE32
 * references (the part after the count). Decoding is lazy; seek binary-searches.
 */
export class BigEndianPostings implements Postings {
  readonly #view: DataView;
  readonly #n: number;
  #i = -1;
  #cur = 0;

  constructor(data: Uint8Array) {
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.#n = data.byteLength >>> 2;
  }

  /** length is the number of entries. */
  get length(): number {
    return this.#n;
  }

  next(): boolean {
    if (this.#i < this.#n) this.#i++;
    if (this.#i >= this.#n) return false;
    this.#cur = this.#view.getUint32(this.#i * 4);
    return true;
  }

  seek(v: number): boolean {
    let i = this.#i < 0 ? 0 : this.#i;
    if (i >= this.#n) return false;
    const view = this.#view;
    if (view.getUint32(i * 4) < v) {
      let lo = i + 1;
      let hi = this.#n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (view.getUint32(mid * 4) < v) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    this.#i = i;
    if (i >= this.#n) return false;
    this.#cur = view.getUint32(i * 4);
    return true;
  }

  at(): number {
    return this.#cur;
  }

  err(): null {
    return null;
  }
}

class IntersectPostings implements Postings {
  readonly #its: Postings[];
  #cur = -1;
  #err: Error | null = null;

  constructor(its: Postings[]) {
    this.#its = its;
  }

  #doNext(target: number): boolean {
    const its = this.#its;
    outer: for (;;) {
      for (const it of its) {
        if (!it.seek(target)) return this.#end(it);
        const v = it.at();
        if (v > target) {
          target = v;
          continue outer;
        }
      }
      this.#cur = target;
      return true;
    }
  }

  #end(it: Postings): false {
    if (this.#err === null) this.#err = it.err();
    return false;
  }

  next(): boolean {
    const first = this.#its[0]!;
    if (!first.next()) return this.#end(first);
    return this.#doNext(first.at());
  }

  seek(v: number): boolean {
    const first = this.#its[0]!;
    if (!first.seek(v)) return this.#end(first);
    return this.#doNext(first.at());
  }

  at(): number {
    return this.#cur;
  }

  err(): Error | null {
    if (this.#err !== null) return this.#err;
    for (const it of this.#its) {
      const e = it.err();
      if (e !== null) return e;
    }
    return null;
  }
}

/** intersect returns the references present in every input, lazily. No input → empty. */
export function intersect(...its: Postings[]): Postings {
  if (its.length === 0) return emptyPostings();
  if (its.length === 1) return its[0]!;
  for (const it of its) if (isEmptyPostings(it)) return emptyPostings();
  return new IntersectPostings(its);
}

/** MergedPostings is the union of several iterators via a binary min-heap; duplicates collapse. */
class MergedPostings implements Postings {
  readonly #all: Postings[];
  #heap: Postings[] = [];
  #initialized = false;
  #cur = -1;
  #err: Error | null = null;

  constructor(its: Postings[]) {
    this.#all = its;
  }

  #check(it: Postings): void {
    if (this.#err === null) this.#err = it.err();
  }

  #init(advance: (p: Postings) => boolean): void {
    this.#initialized = true;
    for (const it of this.#all) {
      if (advance(it)) this.#heap.push(it);
      else this.#check(it);
    }
    for (let i = (this.#heap.length >>> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #down(i: number): void {
    const h = this.#heap;
    const n = h.length;
    const item = h[i]!;
    const v = item.at();
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1]!.at() < h[c]!.at()) c++;
      if (h[c]!.at() >= v) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = item;
  }

  /** Replace the top after it advanced (or drop it when exhausted). */
  #fixTop(ok: boolean): void {
    const h = this.#heap;
    if (!ok) {
      this.#check(h[0]!);
      const last = h.pop()!;
      if (h.length === 0) return;
      h[0] = last;
    }
    this.#down(0);
  }

  next(): boolean {
    if (this.#err !== null) return false;
    if (!this.#initialized) {
      this.#init((p) => p.next());
    } else {
      const h = this.#heap;
      while (h.length > 0 && h[0]!.at() <= this.#cur) this.#fixTop(h[0]!.next());
    }
    if (this.#err !== null || this.#heap.length === 0) return false;
    this.#cur = this.#heap[0]!.at();
    return true;
  }

  seek(v: number): boolean {
    if (this.#err !== null) return false;
    if (!this.#initialized) {
      this.#init((p) => p.seek(v));
    } else {
      if (this.#heap.length === 0) return false;
      if (this.#cur >= v) return true;
      const h = this.#heap;
      while (h.length > 0 && h[0]!.at() < v) this.#fixTop(h[0]!.seek(v));
    }
    if (this.#err !== null || this.#heap.length === 0) return false;
    this.#cur = this.#heap[0]!.at();
    return true;
  }

  at(): number {
    return this.#cur;
  }

  err(): Error | null {
    return this.#err;
  }
}

/** merge returns the sorted union of the inputs (duplicates once), lazily. */
export function merge(...its: Postings[]): Postings {
  const live = its.filter((it) => !isEmptyPostings(it));
  if (live.length === 0) return emptyPostings();
  if (live.length === 1) return live[0]!;
  return new MergedPostings(live);
}

class WithoutPostings implements Postings {
  readonly #full: Postings;
  readonly #drop: Postings;
  #dropOk = true;
  #dropStarted = false;

  constructor(full: Postings, drop: Postings) {
    this.#full = full;
    this.#drop = drop;
  }

  /** Whether the current full value must be skipped. */
  #dropped(v: number): boolean {
    if (!this.#dropOk) return false;
    if (!this.#dropStarted) {
      this.#dropStarted = true;
      this.#dropOk = this.#drop.seek(v);
    } else if (this.#drop.at() < v) {
      this.#dropOk = this.#drop.seek(v);
    }
    return this.#dropOk && this.#drop.at() === v;
  }

  next(): boolean {
    while (this.#full.next()) {
      if (!this.#dropped(this.#full.at())) return true;
    }
    return false;
  }

  seek(v: number): boolean {
    if (!this.#full.seek(v)) return false;
    if (!this.#dropped(this.#full.at())) return true;
    return this.next();
  }

  at(): number {
    return this.#full.at();
  }

  err(): Error | null {
    return this.#full.err() ?? this.#drop.err();
  }
}

/** without returns the references of full that are not in drop, lazily. */
export function without(full: Postings, drop: Postings): Postings {
  if (isEmptyPostings(full)) return emptyPostings();
  if (isEmptyPostings(drop)) return full;
  return new WithoutPostings(full, drop);
}

/** expandPostings drains p into an array, throwing its error if it failed. */
export function expandPostings(p: Postings): number[] {
  const out: number[] = [];
  while (p.next()) out.push(p.at());
  const err = p.err();
  if (err !== null) throw err;
  return out;
}
