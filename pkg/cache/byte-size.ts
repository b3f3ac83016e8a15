import { cacheConfigError } from './cache-config-error.js';

const byteUnits: Record<string, number> = { '': 1, b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3, tb: 1024 ** 4, tib: 1024 ** 4 };

/**
 * parseBytes reads Thanos's byte sizes in cache configs (`100MB`, `1GiB`, `512`; base 2 units).
 * undefined, null and '' are 0. `what` names the config in errors.
 */
export function parseBytes(v: unknown, field: string, what = 'response cache config'): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(v));
  const unit = byteUnits[(m?.[2] ?? 'x').toLowerCase()];
  if (m === null || unit === undefined) throw cacheConfigError(what, `${field}: "${String(v)}" is not a byte size`);
  return Math.floor(Number(m[1]) * unit);
}
