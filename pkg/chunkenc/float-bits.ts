/**
 * floatBits holds module-level scratch views for moving a float64 to and from its two 32-bit halves
 * without allocating and without BigInt. Indices HI/LO select the high/low word for this platform's
 * endianness. NaN payloads (e.g. the staleness marker 0x7FF0000000000002) survive the round trip:
 * typed-array stores and loads do not canonicalise NaN.
 */
export const floatBits = (() => {
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  f64[0] = 1; // 0x3FF00000_00000000
  const littleEndian = u32[1] === 0x3ff00000;
  return { f64, u32, HI: littleEndian ? 1 : 0, LO: littleEndian ? 0 : 1 } as const;
})();

/** StaleNaN bit pattern halves (0x7FF00000_00000002), the Prometheus staleness marker. */
export const STALE_NAN_HI = 0x7ff00000;
/** STALE_NAN_LO is the low word of the staleness marker. */
export const STALE_NAN_LO = 0x00000002;

/** staleNaN returns a number carrying the staleness marker's exact bit pattern. */
export function staleNaN(): number {
  floatBits.u32[floatBits.HI] = STALE_NAN_HI;
  floatBits.u32[floatBits.LO] = STALE_NAN_LO;
  return floatBits.f64[0]!;
}

/** isStaleNaN reports whether v has the exact staleness-marker bit pattern (not just any NaN). */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  floatBits.f64[0] = v;
  return floatBits.u32[floatBits.HI] === STALE_NAN_HI && floatBits.u32[floatBits.LO] === STALE_NAN_LO;
}
