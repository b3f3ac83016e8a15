import { InvalidObjectNameError } from './objstore-errors.js';

/**
 * validateObjectName throws an InvalidObjectNameError unless name is a valid object name: non-empty,
 * no leading `/`, no NUL, no empty, `.` or `..` segment. With `dir`, `""` (the root) and a
 * trailing `/` are allowed. `action` and `bucket` go into the message.
 */
export function validateObjectName(name: string, action: string, bucket: string, dir = false): void {
  const bad = (why: string): never => {
    throw new InvalidObjectNameError(`${action} ${JSON.stringify(name)} in bucket ${bucket}: invalid object name (${why})`);
  };
  if (typeof name !== 'string') bad('not a string');
  if (name === '') {
    if (dir) return;
    bad('empty');
  }
  if (name.includes('\0')) bad('contains NUL');
  if (name.startsWith('/')) bad('absolute path');
  const body = dir && name.endsWith('/') ? name.slice(0, -1) : name;
  for (const seg of body.split('/')) {
    if (seg === '') bad('empty path segment');
    if (seg === '.' || seg === '..') bad(`"${seg}" segment`);
  }
}

/** dirPrefix normalises a directory argument of iter to `""` or a string ending in `/`. */
export function dirPrefix(dir: string): string {
  return dir === '' || dir.endsWith('/') ? dir : dir + '/';
}

/** checkRange validates getRange arguments. */
export function checkRange(off: number, length: number): void {
  if (!Number.isSafeInteger(off) || off < 0) throw new RangeError(`getRange offset ${off} must be a non-negative integer`);
  if (!Number.isSafeInteger(length) || length < -1) throw new RangeError(`getRange length ${length} must be -1 or a non-negative integer`);
}
