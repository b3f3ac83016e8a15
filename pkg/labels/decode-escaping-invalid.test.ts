import { describe, expect, it } from 'vitest';
import { decodeEscapingInvalid } from './decode-escaping-invalid.js';
import { goQuote } from './go-quote.js';

describe('decodeEscapingInvalid', () => {
  it('decodes valid UTF-8 unchanged', () => {
    expect(decodeEscapingInvalid(new TextEncoder().encode('a€😀'))).toBe('a€😀');
  });

  it('keeps invalid bytes as U+DC00+byte, which goQuote prints as \\xNN', () => {
    const s = decodeEscapingInvalid(Uint8Array.from([0x61, 0xff, 0xc5, 0xe2, 0x82, 0xac]));
    expect([...s].map((c) => c.charCodeAt(0))).toEqual([0x61, 0xdcff, 0xdcc5, 0x20ac]);
    expect(goQuote(decodeEscapingInvalid(Uint8Array.from([0xff, 0xfe])))).toBe('"\\xff\\xfe"');
  });
});
