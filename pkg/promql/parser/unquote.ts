import { decodeEscapingInvalid } from '../../labels/index.js';

/**
 * unquoteString resolves a PromQL string literal (with its quotes) like Prometheus's
 * strutil.Unquote: "..." and '...' with Go escapes, `...` raw. Returns the value or an error text.
 */
export function unquoteString(s: string): { value: string; error?: string } {
  const bad = { value: '', error: 'invalid syntax' };
  if (s.length < 2) return bad;
  const quote = s[0]!;
  if (quote !== s[s.length - 1]) return bad;
  const body = s.slice(1, -1);
  if (quote === '`') return body.includes('`') ? bad : { value: body };
  if (quote !== '"' && quote !== "'") return bad;
  if (body.includes('\n')) return bad;
  if (!body.includes('\\') && !body.includes(quote)) return { value: body };
  const enc = new TextEncoder();
  const bytes: number[] = [];
  const pushStr = (x: string): void => {
    for (const b of enc.encode(x)) bytes.push(b);
  };
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c === quote) return bad;
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushStr(ch);
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        bytes.push(7);
        continue;
      case 'b':
        bytes.push(8);
        continue;
      case 'f':
        bytes.push(12);
        continue;
      case 'n':
        bytes.push(10);
        continue;
      case 'r':
        bytes.push(13);
        continue;
      case 't':
        bytes.push(9);
        continue;
      case 'v':
        bytes.push(11);
        continue;
      case '\\':
        bytes.push(92);
        continue;
      case "'":
      case '"':
        if (e !== quote) return bad;
        bytes.push(e.charCodeAt(0));
        continue;
      case 'x':
      case 'u':
      case 'U': {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = body.slice(i, i + n);
        if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) return bad;
        i += n;
        const v = parseInt(hex, 16);
        if (e === 'x') bytes.push(v);
        else {
          if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return bad;
          pushStr(String.fromCodePoint(v));
        }
        continue;
      }
      default: {
        if (e !== undefined && e >= '0' && e <= '7') {
          const oct = body.slice(i - 1, i + 2);
          if (!/^[0-7]{3}$/.test(oct)) return bad;
          const v = parseInt(oct, 8);
          if (v > 255) return bad;
          bytes.push(v);
          i += 2;
          continue;
        }
        return bad;
      }
    }
  }
  return { value: decodeEscapingInvalid(new Uint8Array(bytes)) };
}
