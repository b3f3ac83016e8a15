import { expect, test } from 'vitest';
import { parseGoFloat } from './parse-go-float.js';

test.each([
  ['1', 1],
  ['-2.5e-07', -2.5e-7],
  ['1e+21', 1e21],
  ['+Inf', Infinity],
  ['Inf', Infinity],
  ['-Inf', -Infinity],
])('parseGoFloat(%s) = %d', (s, want) => expect(parseGoFloat(s)).toBe(want));

test('NaN reads as NaN', () => expect(parseGoFloat('NaN')).toBeNaN());
