const needsEscape = /[<>&\u2028\u2029]/;
const escapes: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * jsonString quotes s as Go's encoding/json does: JSON.stringify plus `<`, `>`, `&`, U+2028 and
 * U+2029 as \u escapes (Prometheus and Thanos responses are byte-compared by some clients).
 */
export function jsonString(s: string): string {
  const q = JSON.stringify(s);
  return needsEscape.test(q) ? q.replace(/[<>&\u2028\u2029]/g, (c) => escapes[c]!) : q;
}
