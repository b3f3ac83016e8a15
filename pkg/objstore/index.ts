export type { Bucket, BucketReader, IterOptions, ObjectAttributes, ReadOptions, UploadOptions } from './bucket.js';
export {
  ObjstoreError,
  ObjNotFoundError,
  ObjAccessDeniedError,
  BucketNotFoundError,
  ObjstoreUnreachableError,
  InvalidObjectNameError,
  ObjstoreConfigError,
  ObjstoreIoError,
  isObjNotFoundError,
  isObjAccessDeniedError,
} from './objstore-errors.js';
export type { ObjstoreErrorCode } from './objstore-errors.js';
export { validateObjectName } from './object-name.js';
export { FilesystemBucket } from './filesystem-bucket.js';
export type { FilesystemBucketOptions } from './filesystem-bucket.js';
export { InMemoryBucket } from './in-memory-bucket.js';
export type { InMemoryBucketOptions } from './in-memory-bucket.js';
export { S3Bucket } from './s3-bucket.js';
export type { S3BucketOptions } from './s3-bucket.js';
export { parseS3Config, S3_DEFAULT_PART_SIZE } from './s3-config.js';
export type { S3Config, S3HttpConfig, S3SseConfig } from './s3-config.js';
export { PrefixedBucket, withPrefix } from './prefixed-bucket.js';
export { InstrumentedBucket, newBucketMetrics } from './instrumented-bucket.js';
export type { BucketMetrics } from './instrumented-bucket.js';
export { parseObjstoreConfig, substituteEnv } from './objstore-config.js';
export type { ObjstoreConfig, ObjstoreType } from './objstore-config.js';
export { newBucketFromConfig, readObjstoreFlags } from './client-factory.js';
export type { NewBucketOptions } from './client-factory.js';
export { uploadDir } from './upload-dir.js';
export type { TransferDirOptions } from './upload-dir.js';
export { downloadDir } from './download-dir.js';
export { runLimited } from './run-limited.js';
export { parseDuration } from './duration.js';
