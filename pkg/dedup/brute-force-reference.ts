import { switchOffset } from './switch-offset.js';

/**
 * Brute-force reference of DedupIterator's rules (see dedup-iterator.ts), written over plain
 * arrays with no incremental state besides the followed replica, for property tests. Not exported
 * from the package index.
 */

/** ReferenceReplica is one replica's float samples. */
export interface ReferenceReplica {
  readonly ts: readonly number[];
  readonly vs: readonly number[];
}

/** ReferenceSample is one merged sample and the replica it came from. */
export interface ReferenceSample {
  readonly t: number;
  readonly v: number;
  readonly src: number;
}

/** referenceDedup merges replicas following the documented rules, naively. */
export function referenceDedup(replicas: readonly ReferenceReplica[], counter: boolean): ReferenceSample[] {
  const out: ReferenceSample[] = [];
  const off = replicas.map(() => 0);
  let cur = -1;
  let k = -1;
  for (let r = 0; r < replicas.length; r++) {
    const t0 = replicas[r]!.ts[0];
    if (t0 !== undefined && (cur < 0 || t0 < replicas[cur]!.ts[0]!)) cur = r;
  }
  if (cur < 0) return out;
  k = 0;
  const emit = (): void => {
    const rep = replicas[cur]!;
    out.push({ t: rep.ts[k]!, v: rep.vs[k]! + off[cur]!, src: cur });
  };
  emit();
  let lastDelta = NaN;
  let afterGap = false;
  // Samples dropped while their replica was followed (closer than δ/2 to the previous one).
  const skipped = replicas.map(() => new Set<number>());
  const prevIdx = (r: number, i: number): number => {
    let j = i - 1;
    while (j >= 0 && skipped[r]!.has(j)) j--;
    return j;
  };
  for (;;) {
    const rep = replicas[cur]!;
    const lastT = rep.ts[k]!;
    const lastV = rep.vs[k]! + off[cur]!;
    const i1 = prevIdx(cur, k);
    const i2 = i1 >= 0 ? prevIdx(cur, i1) : -1;
    const d1 = i1 >= 0 && !afterGap ? lastT - rep.ts[i1]! : NaN;
    const d2 = i2 >= 0 ? rep.ts[i1]! - rep.ts[i2]! : NaN;
    let d = afterGap ? d2 : Number.isNaN(d1) ? NaN : Number.isNaN(d2) ? d1 : Math.min(d1, d2);
    afterGap = false;
    if (Number.isNaN(d)) d = lastDelta;
    if (Number.isNaN(d)) {
      // Estimate from the other replicas' first two samples after lastT.
      for (let j = 0; j < replicas.length; j++) {
        if (j === cur) continue;
        const ts = replicas[j]!.ts;
        const i = ts.findIndex((t) => t > lastT);
        if (i >= 0 && i + 1 < ts.length) {
          const dj = ts[i + 1]! - ts[i]!;
          if (Number.isNaN(d) || dj < d) d = dj;
        }
      }
    }
    if (!Number.isNaN(d)) lastDelta = d;
    let kn = k + 1;
    while (kn < rep.ts.length && !Number.isNaN(d) && 2 * (rep.ts[kn]! - lastT) < d) skipped[cur]!.add(kn++);
    const tn = kn < rep.ts.length ? rep.ts[kn]! : Infinity;
    const gap = tn === Infinity || (!Number.isNaN(d) && tn - lastT > 1.5 * d);
    const ownReset = (): void => {
      if (counter && off[cur] !== 0 && rep.vs[k]! < rep.vs[prevIdx(cur, k)]!) off[cur] = 0;
    };
    if (!gap) {
      k = kn;
      ownReset();
      emit();
      continue;
    }
    let best = -1;
    let bestI = -1;
    for (let j = 0; j < replicas.length; j++) {
      if (j === cur) continue;
      const ts = replicas[j]!.ts;
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!;
        if (t <= lastT) continue;
        if (!Number.isNaN(d) && t - lastT < d / 2) continue;
        if (best < 0 || t < replicas[best]!.ts[bestI]!) {
          best = j;
          bestI = i;
        }
        break;
      }
    }
    if (best >= 0 && replicas[best]!.ts[bestI]! < tn) {
      cur = best;
      k = bestI;
      if (counter) {
        const bts = replicas[best]!.ts;
        const pi = prevIdx(best, bestI);
        const p = pi >= 0 ? replicas[best]!.vs[pi]! : NaN;
        const pt = pi >= 0 ? bts[pi]! : NaN;
        off[best] = switchOffset(replicas[best]!.vs[bestI]!, p, pt, bts[bestI]!, off[best]!, lastV, lastT);
      }
      emit();
      continue;
    }
    if (tn === Infinity) return out;
    afterGap = true;
    k = kn;
    ownReset();
    emit();
  }
}
