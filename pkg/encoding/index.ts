export { crc32c } from './crc32c.js';
export { uvarintSize, putUvarint, putVarint, zigzag, unzigzag, readUvarint, UvarintStatus } from './varint.js';
export type { UvarintRead } from './varint.js';
export { Encbuf } from './encbuf.js';
export { Decbuf, DecodeError, DecodeErrorCode, decodeUtf8, verifyCRC32C } from './decbuf.js';
