/**
 * rng returns a small deterministic PRNG (mulberry32) yielding floats in [0, 1): the same seed gives
 * the same sequence on every machine, so generated data sets are reproducible.
 */
export function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
