import { cacheConfigError } from './cache-config-error.js';

const byteUnits: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3, tb: 1024 ** 4, tib: 1024 ** 4 };

/**
 * parseByteSize reads a byte size as Thanos's units.Base2Bytes does (flags and cache configs): a
 * number with an optional unit B, KB/KiB, MB/MiB, GB/GiB, TB/TiB (any case), all powers of 1024
 * (`512`, `100MB`, `1.5GiB`); undefined when the text is not one.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = byteUnits[(m?.[2] ?? 'x').toLowerCase()];
  return m === null || unit === undefined ? undefined : Math.floor(Number(m[1]) * unit);
}

/**
 * parseBytes reads Thanos's byte sizes in cache configs (parseByteSize, or a non-negative integer).
 * undefined, null and '' are 0. `what` names the config in errors.
 */
export function parseBytes(v: unknown, field: string, what = 'response cache config'): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const n = parseByteSize(String(v));
  if (n === undefined) throw cacheConfigError(what, `${field}: "${String(v)}" is not a byte size`);
  return n;
}
