export { ValueType } from './value-type.js';
export type { SampleIterator } from './sample-iterator.js';
export { Encoding } from './chunk.js';
export type { Chunk, ChunkMeta, Appender } from './chunk.js';
