import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { xxhash64 } from './index.js';

// Fixtures printed by github.com/cespare/xxhash/v2 (what Thanos uses); regenerate with
// `cd testdata/xxhash-gen && go run . > ../xxhash64.json`.
const fixtures = JSON.parse(readFileSync(join(fileURLToPath(import.meta.url), '../testdata/xxhash64.json'), 'utf8')) as Record<string, string>;
const hex = (r: { hi: number; lo: number }) => r.hi.toString(16).padStart(8, '0') + r.lo.toString(16).padStart(8, '0');

test.each(Object.entries(fixtures).filter(([k]) => k !== 'labels'))('xxHash64 of %s bytes matches cespare/xxhash', (n, want) => {
  const b = Uint8Array.from({ length: Number(n) }, (_, i) => (i * 131 + 7) % 251);
  expect(hex(xxhash64(b))).toBe(want);
  // Same answer on a sub-range of a larger buffer.
  const big = new Uint8Array(b.length + 10);
  big.set(b, 5);
  expect(hex(xxhash64(big, { hi: 0, lo: 0 }, 5, 5 + b.length))).toBe(want);
});

test('xxHash64 of a shard key string', () => {
  expect(hex(xxhash64(new TextEncoder().encode('__name__\xffup\xffjob\xffapi\xff')))).not.toBe(fixtures.labels); // 0xff in a JS string is U+00FF (2 UTF-8 bytes)
  const key = Uint8Array.from([...new TextEncoder().encode('__name__'), 0xff, ...new TextEncoder().encode('up'), 0xff, ...new TextEncoder().encode('job'), 0xff, ...new TextEncoder().encode('api'), 0xff]);
  expect(hex(xxhash64(key))).toBe(fixtures.labels);
});
