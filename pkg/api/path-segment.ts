import { ApiError } from './api-error.js';

const strict = new TextDecoder('utf-8', { fatal: true });

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

function decodeEscapingInvalid(b: Uint8Array): string {
  try {
    return strict.decode(b);
  } catch {
    // byte-wise below
  }
  let out = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n > 0 && i + n <= b.length) {
      try {
        out += strict.decode(b.subarray(i, i + n));
        i += n;
        continue;
      } catch {
        // invalid sequence: escape the lead byte
      }
    }
    out += String.fromCharCode(0xdc00 + c);
    i++;
  }
  return out;
}
