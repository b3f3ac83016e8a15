import { describe, expect, test } from 'vitest';
import { mergeLabelResults } from './merge-label-results.js';

describe('mergeLabelResults', () => {
  const a = { values: ['b', 'd'], warnings: ['w1'] };
  const b = { values: ['a', 'b', 'c'], warnings: ['w1', 'w2'] };

  test('unites, sorts and de-duplicates values and warnings', () => {
    expect(mergeLabelResults([a, b], undefined)).toEqual({ values: ['a', 'b', 'c', 'd'], warnings: ['w1', 'w2'] });
  });

  test('keeps the first hints.limit values; 0 keeps all', () => {
    expect(mergeLabelResults([a, b], { limit: 2 }).values).toEqual(['a', 'b']);
    expect(mergeLabelResults([a, b], { limit: 0 }).values).toEqual(['a', 'b', 'c', 'd']);
  });
});
