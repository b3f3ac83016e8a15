const strict = new TextDecoder('utf-8', { fatal: true });

/**
 * decodeEscapingInvalid decodes UTF-8, mapping every byte that is not part of a valid sequence to
 * the lone surrogate U+DC00+byte (Python's "surrogateescape"), so that strings Go would hold as
 * invalid UTF-8 (e.g. from the PromQL literal `"\xc5"` or the URL path `%FF`) keep their bytes:
 * goQuote prints them back as `\xc5` and label-name validation rejects them, as in Prometheus.
 */
export function decodeEscapingInvalid(b: Uint8Array): string {
  try {
    return strict.decode(b);
  } catch {
    // fall through to the byte-wise decoder
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
        // invalid sequence: escape the lead byte below
      }
    }
    out += String.fromCharCode(0xdc00 + c);
    i++;
  }
  return out;
}
