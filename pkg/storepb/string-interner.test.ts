import { describe, expect, test } from 'vitest';
import { StringInterner } from './string-interner.js';

const enc = new TextEncoder();

describe('StringInterner', () => {
  test('decodes every string as UTF-8 decoding does, interned or not', () => {
    // A 4-slot table: many strings share slots and replace each other.
    const si = new StringInterner(2);
    const words = ['', 'a', 'b', 'ab', 'ba', 'instance', 'node_cpu_seconds_total', 'x'.repeat(64), 'y'.repeat(65), 'größe', '日本', 'a\u0000b', '\u007f'];
    for (let round = 0; round < 3; round++) {
      for (const w of words) {
        // Embedded in a larger buffer at an offset, as in a frame.
        const b = enc.encode(`<<${w}>>`);
        expect(si.decode(b, 2, b.length - 2)).toBe(w);
      }
    }
  });

  test('a repeated string is the same string; a different one in its slot is not confused with it', () => {
    const si = new StringInterner(0); // one slot
    const b1 = enc.encode('mode');
    const b2 = enc.encode('modf');
    const s1 = si.decode(b1, 0, b1.length);
    expect(si.decode(b1, 0, b1.length)).toBe(s1);
    expect(si.decode(b2, 0, b2.length)).toBe('modf');
    expect(si.decode(b1, 0, b1.length)).toBe('mode');
  });
});
