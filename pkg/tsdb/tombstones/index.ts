export {
  Tombstones,
  TombstonesError,
  encodeTombstones,
  decodeTombstones,
  readTombstones,
  writeTombstones,
  TOMBSTONES_MAGIC,
  TOMBSTONES_VERSION,
  TOMBSTONES_FILENAME,
} from './tombstones.js';
export type { Interval } from './tombstones.js';
