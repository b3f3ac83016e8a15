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
  for (;;) {
    const rep = replicas[cur]!;
    const lastT = rep.ts[k]!;
    const lastV = rep.vs[k]! + off[cur]!;
    const d1 = k >= 1 && !afterGap ? lastT - rep.ts[k - 1]! : NaN;
    const d2 = k >= 2 ? rep.ts[k - 1]! - rep.ts[k - 2]! : NaN;
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
    const tn = k + 1 < rep.ts.length ? rep.ts[k + 1]! : Infinity;
    const gap = tn === Infinity || (!Number.isNaN(d) && tn - lastT > 1.5 * d);
    const ownReset = (): void => {
      if (counter && off[cur] !== 0 && rep.vs[k]! < rep.vs[k - 1]!) off[cur] = 0;
    };
    if (!gap) {
      k++;
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
        const p = bestI > 0 ? replicas[best]!.vs[bestI - 1]! : NaN;
        const pt = bestI > 0 ? bts[bestI - 1]! : NaN;
        off[best] = switchOffset(replicas[best]!.vs[bestI]!, p, pt, bts[bestI]!, off[best]!, lastV, lastT);
      }
      emit();
      continue;
    }
    if (tn === Infinity) return out;
    afterGap = true;
    k++;
    ownReset();
    emit();
  }
}
