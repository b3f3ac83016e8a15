import { TesseraError } from '../errors/index.js';

/** ObjstoreErrorCode lists the stable codes of object storage errors. */
export type ObjstoreErrorCode =
  | 'TESSERA_OBJ_NOT_FOUND'
  | 'TESSERA_OBJ_ACCESS_DENIED'
  | 'TESSERA_BUCKET_NOT_FOUND'
  | 'TESSERA_OBJSTORE_UNREACHABLE'
  | 'TESSERA_OBJSTORE_INVALID_NAME'
  | 'TESSERA_OBJSTORE_CONFIG'
  | 'TESSERA_OBJSTORE_IO';

/**
 * ObjstoreError is the base of the object storage errors; `code` tells them apart. The message
 * names the operation, the object and the bucket (and for remote stores the endpoint).
 */
export class ObjstoreError extends TesseraError {
  declare readonly code: ObjstoreErrorCode;

  constructor(code: ObjstoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** ObjNotFoundError means the named object does not exist (code `TESSERA_OBJ_NOT_FOUND`). */
export class ObjNotFoundError extends ObjstoreError {
  /** objectName is the missing object's name as the caller gave it. */
  readonly objectName: string;

  constructor(objectName: string, message: string, options?: { cause?: unknown }) {
    super('TESSERA_OBJ_NOT_FOUND', message, options);
    this.objectName = objectName;
  }
}

/** ObjAccessDeniedError means the store refused the request: wrong credentials or missing permission. */
export class ObjAccessDeniedError extends ObjstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESSERA_OBJ_ACCESS_DENIED', message, options);
  }
}

/** BucketNotFoundError means the bucket itself does not exist at the endpoint. */
export class BucketNotFoundError extends ObjstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESSERA_BUCKET_NOT_FOUND', message, options);
  }
}

/** ObjstoreUnreachableError means the endpoint could not be reached (refused, timed out, DNS). */
export class ObjstoreUnreachableError extends ObjstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESSERA_OBJSTORE_UNREACHABLE', message, options);
  }
}

/** InvalidObjectNameError rejects a name that is empty, absolute, or escapes with `.`/`..` segments or symlinks. */
export class InvalidObjectNameError extends ObjstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESSERA_OBJSTORE_INVALID_NAME', message, options);
  }
}

/** ObjstoreConfigError reports an invalid objstore configuration (YAML, flags, provider keys). */
export class ObjstoreConfigError extends ObjstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESSERA_OBJSTORE_CONFIG', message, options);
  }
}

/** ObjstoreIoError is any other store failure (disk error, unexpected server response). */
export class ObjstoreIoError extends ObjstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TESSERA_OBJSTORE_IO', message, options);
  }
}

/** isObjNotFoundError reports whether err is an {@link ObjNotFoundError}. */
export function isObjNotFoundError(err: unknown): err is ObjNotFoundError {
  return err instanceof ObjNotFoundError;
}

/** isObjAccessDeniedError reports whether err is an {@link ObjAccessDeniedError}. */
export function isObjAccessDeniedError(err: unknown): err is ObjAccessDeniedError {
  return err instanceof ObjAccessDeniedError;
}
