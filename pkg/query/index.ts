export { StoreQueryable, StoreQuerier, createStoreQueryable } from './store-queryable.js';
export type { StoreQueryOptions, CreateStoreQueryableOptions } from './store-queryable.js';
export { aggrsForFunc, aggrChunkIterator, toChunk } from './aggr-iterator.js';
export { IteratorChunk } from './iterator-chunk.js';
