/**
 * goQuote returns s as a double-quoted string literal the way Go's strconv.Quote writes it, which is
 * what Prometheus uses when it prints label values (Labels.String, promtool output, PromQL printer).
 * Printable characters stay as they are; `"` and `\` are escaped; control characters use the short
 * escapes (\a \b \f \n \r \t \v) or \xNN / \uNNNN / \UNNNNNNNN; lone surrogates U+DC80..U+DCFF
 * (invalid UTF-8 bytes kept by surrogateescape) become \xNN, other lone surrogates \ufffd.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += '\\\\';
      else out += s[i];
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        out += isPrintable(cp) ? s.slice(i, i + 2) : '\\U' + cp.toString(16).padStart(8, '0');
        i++;
        continue;
      }
    }
    // U+DC80..U+DCFF stand for single invalid UTF-8 bytes (surrogateescape, see the PromQL
    // unquoter); Go prints such a byte as \xNN. Other lone surrogates print as U+FFFD.
    if (c >= 0xdc80 && c <= 0xdcff) {
      out += '\\x' + (c - 0xdc00).toString(16).padStart(2, '0');
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    switch (c) {
      case 0x07: out += '\\a'; continue;
      case 0x08: out += '\\b'; continue;
      case 0x0c: out += '\\f'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      case 0x0b: out += '\\v'; continue;
    }
    if (c < 0x20 || c === 0x7f) {
      out += '\\x' + c.toString(16).padStart(2, '0');
    } else if (isPrintable(c)) {
      out += String.fromCharCode(c);
    } else {
      out += '\\u' + c.toString(16).padStart(4, '0');
    }
  }
  return out + '"';
}

// Approximates Go's unicode.IsPrint for the characters that matter in label values: C1 controls,
// the soft hyphen, line/paragraph separators, format characters and non-characters are escaped.
function isPrintable(cp: number): boolean {
  if (cp >= 0x80 && cp < 0xa0) return false;
  if (cp === 0xad) return false;
  if (cp >= 0x2028 && cp <= 0x202e) return false;
  if (cp >= 0x200b && cp <= 0x200f) return false;
  if (cp >= 0x2060 && cp <= 0x206f) return false;
  if (cp === 0xfeff || cp === 0xfffe || cp === 0xffff) return false;
  if (cp >= 0xfff9 && cp <= 0xfffb) return false;
  if (cp >= 0xe000 && cp <= 0xf8ff) return false;
  return true;
}
