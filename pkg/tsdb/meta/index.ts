export { parseBlockMeta, formatBlockMeta, readBlockMeta, writeBlockMeta, BlockMetaError, META_FILENAME, META_VERSION } from './block-meta.js';
export type { BlockMeta, BlockStats, BlockDesc, BlockMetaCompaction, ThanosMeta, ThanosFile } from './block-meta.js';
export { isUlid, ulidTime, ulidBytes, ulidFromBytes, UlidGenerator, newUlid } from './ulid.js';
