const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const hiIdx = littleEndian ? 1 : 0;
const loIdx = littleEndian ? 0 : 1;

u32[hiIdx] = 0x7ff00000;
u32[loIdx] = 0x00000002;

/**
 * staleNaN is Prometheus's staleness marker (bits 0x7ff0000000000002). Its payload survives only
 * in typed arrays and plain number variables: V8 canonicalizes NaNs stored in ordinary double
 * arrays, so storages keep values in Float64Array and readers test with isStaleNaN right away.
 */
export const staleNaN: number = f64[0]!;

/** isStaleNaN reports whether v carries the staleness marker bit pattern. */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  f64[0] = v;
  return u32[hiIdx] === 0x7ff00000 && u32[loIdx] === 0x00000002;
}
