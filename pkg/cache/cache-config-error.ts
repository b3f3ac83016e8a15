import { TesseraError } from '../errors/index.js';

/** CACHE_CONFIG_ERROR is the code of every cache configuration error. */
export const CACHE_CONFIG_ERROR = 'TESSERA_CACHE_CONFIG';

/** cacheConfigError is a bad cache configuration; `what` names the config (e.g. "index cache config"). */
export function cacheConfigError(what: string, msg: string, cause?: unknown): TesseraError {
  return new TesseraError(CACHE_CONFIG_ERROR, `parse ${what}: ${msg}`, cause === undefined ? undefined : { cause });
}
