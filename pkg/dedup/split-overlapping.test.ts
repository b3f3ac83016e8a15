import { expect, test } from 'vitest';
import type { Chunk, ChunkMeta } from '../chunkenc/index.js';
import { splitOverlapping } from './split-overlapping.js';

const chunk = {} as Chunk;
const c = (minTime: number, maxTime: number): ChunkMeta => ({ ref: 0, minTime, maxTime, chunk });

test.each([
  [[], []],
  [[[0, 10], [11, 20], [21, 30]], [[[0, 10], [11, 20], [21, 30]]]],
  [[[0, 10], [5, 15], [11, 20], [16, 30]], [[[0, 10], [11, 20]], [[5, 15], [16, 30]]]],
  [[[0, 10], [0, 10], [0, 10]], [[[0, 10]], [[0, 10]], [[0, 10]]]],
  [[[0, 100], [10, 20], [30, 40], [101, 110]], [[[0, 100], [101, 110]], [[10, 20], [30, 40]]]],
])('%j → %j', (input, want) => {
  const got = splitOverlapping(input.map(([a, b]) => c(a!, b!)));
  expect(got.map((l) => l.map((m) => [m.minTime, m.maxTime]))).toEqual(want);
});
