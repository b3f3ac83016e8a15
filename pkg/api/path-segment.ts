import { decodeEscapingInvalid } from '../labels/index.js';
import { ApiError } from './api-error.js';

/**
 * decodePathSegment percent-decodes one raw URL path segment the way Go's net/url does for
 * r.URL.Path, keeping invalid UTF-8: each byte that is not part of a valid sequence becomes the
 * lone surrogate U+DC00+byte (as the PromQL unquoter does), so goQuote prints it as `\xNN` and
 * label-name validation rejects it, e.g. `%FF%FE` → `"\xff\xfe"`. A malformed escape (`%ZZ`, a
 * trailing `%`) is a bad_data error.
 */
export function decodePathSegment(raw: string): string {
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const h = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) throw new ApiError('bad_data', `invalid URL escape ${JSON.stringify(raw.slice(i, i + 3))}`);
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(raw[i]!, 'utf8')) bytes.push(b);
    }
  }
  return decodeEscapingInvalid(Uint8Array.from(bytes));
}
