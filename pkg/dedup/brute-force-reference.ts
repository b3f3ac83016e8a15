import { switchOffset } from './switch-offset.js';

/**
 * Brute-force reference of DedupIterator's rules (see dedup-iterator.ts), written over plain
 * arrays with array scans instead of incremental cursors, lookahead slots and thinning on the
 * fly, for property tests. Not exported from the package index.
 */

/** ReferenceReplica is one replica's float samples, optionally with a per-sample interval hint. */
export interface ReferenceReplica {
  readonly ts: readonly number[];
  readonly vs: readonly number[];
  readonly hs?: readonly number[];
}

/** ReferenceSample is one merged sample and the replica it came from. */
export interface ReferenceSample {
  readonly t: number;
  readonly v: number;
  readonly src: number;
}

const positive = (x: number | undefined): number => (x !== undefined && x > 0 && x !== Infinity ? x : NaN);

/** ownDelta is the smallest of the last three deltas before and at p1 and the hint at p1 (known terms only), NaN when none is known. */
function ownDelta(ts: readonly number[], hint: number): number {
  const ds = [positive(hint)];
  for (let i = ts.length - 1; i >= 1 && i >= ts.length - 3; i--) ds.push(ts[i]! - ts[i - 1]!);
  const known = ds.filter((d) => !Number.isNaN(d));
  return known.length === 0 ? NaN : Math.min(...known);
}

/** kept returns the indices of a replica's samples that survive thinning (rule 1). */
function kept(r: ReferenceReplica): number[] {
  const out: number[] = [];
  for (let i = 0; i < r.ts.length; i++) {
    const k1 = out[out.length - 1];
    if (k1 !== undefined) {
      const dh = ownDelta(out.map((x) => r.ts[x]!), r.hs?.[k1] ?? NaN);
      const df = i + 1 < r.ts.length ? positive(r.ts[i + 1]! - r.ts[i]!) : NaN;
      const step = 2 * (r.ts[i]! - r.ts[k1]!);
      const drop = (Number.isNaN(dh) || step < dh) && (Number.isNaN(df) || step < df) && !(Number.isNaN(dh) && Number.isNaN(df));
      if (drop) continue;
    }
    out.push(i);
  }
  return out;
}

/** referenceDedup merges replicas (in priority order) following the documented rules, naively. */
export function referenceDedup(replicas: readonly ReferenceReplica[], counter: boolean): ReferenceSample[] {
  const ks = replicas.map(kept);
  const off = replicas.map(() => 0);
  const out: ReferenceSample[] = [];
  let lastT = -Infinity;
  let lastF = NaN;
  let src = -1;
  let lastDelta = NaN;
  let capOut = NaN;

  /** pos returns the position in ks[k] of the first kept sample with t > after and t ≥ lo. */
  const pos = (k: number, after: number, lo: number): number => {
    const r = replicas[k]!;
    const i = ks[k]!.findIndex((x) => r.ts[x]! > after && r.ts[x]! >= lo);
    return i < 0 ? ks[k]!.length : i;
  };
  // Cursor positions only move forward in the iterator (estimate may move them beyond lo).
  const at = replicas.map(() => 0);
  const move = (k: number, after: number, lo: number): void => {
    const i = pos(k, after, lo);
    if (i > at[k]!) at[k] = i;
  };
  const peekDelta = (k: number, i: number): number => {
    const r = replicas[k]!;
    const raw = ks[k]![i]!;
    return raw + 1 < r.ts.length ? r.ts[raw + 1]! - r.ts[raw]! : NaN;
  };
  const estimate = (k: number): number => {
    let d = NaN;
    for (let j = 0; j < replicas.length; j++) {
      if (j === k) continue;
      move(j, lastT, -Infinity);
      if (at[j]! >= ks[j]!.length) continue;
      const dj = peekDelta(j, at[j]!);
      if (dj > 0 && !(dj >= d)) d = dj;
    }
    return d;
  };
  const delta = (k: number): number => {
    const r = replicas[k]!;
    const i = at[k]!;
    const kk = ks[k]!;
    let d: number;
    if (i === 0) d = kk.length > 0 ? positive(r.hs?.[kk[0]!]) : NaN;
    else d = ownDelta(kk.slice(0, i).map((x) => r.ts[x]!), r.hs?.[kk[i - 1]!] ?? NaN);
    if (Number.isNaN(d) && i < kk.length) {
      const dn = peekDelta(k, i);
      if (dn > 0) d = dn;
    }
    if (Number.isNaN(d)) d = lastDelta;
    if (Number.isNaN(d)) d = estimate(k);
    if (!Number.isNaN(d)) lastDelta = d;
    return d;
  };
  const own = (k: number, n: number, hi: number, cap: number): number => {
    if (n > hi) return -1;
    capOut = cap;
    return k;
  };
  const cand = (k: number, lo: number, hi: number, cap: number): number => {
    if (k === replicas.length) return -1;
    move(k, lastT, lo);
    const r = replicas[k]!;
    const kk = ks[k]!;
    const i = at[k]!;
    const n = i < kk.length ? r.ts[kk[i]!]! : Infinity;
    const p = i > 0 ? r.ts[kk[i - 1]!]! : NaN;
    if (n === Infinity && Number.isNaN(p)) return cand(k + 1, lo, hi, cap);
    const d = delta(k);
    let lo2: number;
    let hi2: number;
    if (Number.isNaN(p)) {
      if (Number.isNaN(d)) return own(k, n, hi, cap);
      lo2 = -Infinity;
      hi2 = n - d / 2;
    } else if (n === Infinity) {
      if (Number.isNaN(d)) return -1;
      lo2 = p + d / 2;
      hi2 = Infinity;
    } else {
      if (Number.isNaN(d) || 2 * (n - p) <= 3 * d) return own(k, n, hi, cap);
      lo2 = p + d / 2;
      hi2 = n - d / 2;
    }
    let cap2 = cap;
    if (hi2 < hi) cap2 = r.vs[kk[i]!]! + off[k]!;
    const l = Math.max(lo, lo2);
    const h = Math.min(hi, hi2);
    if (l <= h) {
      const s = cand(k + 1, l, h, cap2);
      if (s >= 0) return s;
    }
    return n === Infinity ? -1 : own(k, n, hi, cap);
  };

  for (;;) {
    const k = cand(0, -Infinity, Infinity, NaN);
    if (k < 0) return out;
    const r = replicas[k]!;
    const kk = ks[k]!;
    const i = at[k]!;
    const t = r.ts[kk[i]!]!;
    let v = r.vs[kk[i]!]!;
    if (counter) {
      const pv = i > 0 ? r.vs[kk[i - 1]!]! : NaN;
      const pt = i > 0 ? r.ts[kk[i - 1]!]! : NaN;
      if (src === k) {
        if (off[k] !== 0 && v < pv) off[k] = 0;
      } else if (src >= 0 && !Number.isNaN(lastF)) {
        const f = (t - lastT) / (t - pt);
        const max = f > 1 ? (v - pv) * f : v - pv;
        const plausible = v >= lastF && (Number.isNaN(pv) || v < pv || v - lastF <= max);
        off[k] = plausible ? 0 : switchOffset(v, pv, pt, t, off[k]!, lastF, lastT);
      }
      v += off[k]!;
      if (v > capOut && !(capOut < lastF)) v = capOut;
    }
    out.push({ t, v, src: k });
    src = k;
    lastT = t;
    lastF = v;
  }
}
