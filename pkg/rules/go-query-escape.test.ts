import { expect, test } from 'vitest';
import { goQueryEscape } from './go-query-escape.js';

test.each([
  ['up', 'up'],
  ['rate(x[5m]) > 0', 'rate%28x%5B5m%5D%29+%3E+0'],
  ['a-b_c.d~e', 'a-b_c.d~e'],
  ['{job="ü"}', '%7Bjob%3D%22%C3%BC%22%7D'],
])('goQueryEscape(%s) = %s', (s, want) => expect(goQueryEscape(s)).toBe(want));
