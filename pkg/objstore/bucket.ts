/**
 * ObjectAttributes are the metadata of one stored object.
 */
export interface ObjectAttributes {
  /** size is the object's length in bytes. */
  readonly size: number;
  /** lastModified is the object's last modification time in Unix milliseconds (S3: second precision). */
  readonly lastModified: number;
}

/** IterOptions tune {@link BucketReader.iter}. */
export interface IterOptions {
  /** recursive lists every object below the directory instead of one level (no directory entries). */
  readonly recursive?: boolean;
  /** signal aborts the listing; the iterator then throws the signal's reason. */
  readonly signal?: AbortSignal;
}

/** ReadOptions tune the read calls of {@link BucketReader}. */
export interface ReadOptions {
  /** signal aborts the request. */
  readonly signal?: AbortSignal;
}

/** UploadOptions tune {@link Bucket.upload}. */
export interface UploadOptions {
  /** contentType is stored with the object where the provider supports it (S3). */
  readonly contentType?: string;
  /** signal aborts the upload; no partial object becomes visible. */
  readonly signal?: AbortSignal;
}

/**
 * BucketReader is the read side of an object store bucket, Thanos' `objstore.BucketReader`.
 *
 * Object names use `/` as the directory delimiter; there are no real directories. A valid object
 * name is non-empty, relative (no leading `/`), has no empty, `.` or `..` segments and no NUL
 * character; an invalid name is rejected with an `InvalidObjectNameError` (code
 * `TESSERA_OBJSTORE_INVALID_NAME`) by every implementation, before any I/O.
 *
 * Errors: a missing object gives an error for which {@link BucketReader.isObjNotFoundErr} is
 * true (an `ObjNotFoundError`, code `TESSERA_OBJ_NOT_FOUND`). Problems with the store itself
 * (credentials, missing bucket, unreachable endpoint) are other `ObjstoreError`s whose message
 * names the bucket and the endpoint; they are never reported as "not found".
 *
 * Implementations are safe for concurrent use by many callers.
 */
export interface BucketReader {
  /**
   * iter lists the entries directly under `dir` (`""` is the root; `dir` is treated as ending in
   * `/`), yielding **full** object names. Sub-directories are yielded once, with a trailing `/`
   * (`"a/b/"`). With `recursive`, every object below `dir` is yielded and no directory entry.
   *
   * Order: sorted, but the exact order is provider-specific when names contain bytes below `/`
   * (S3 and in-memory sort by full key, so `a-b` < `a/`; FILESYSTEM sorts by entry name, so
   * `a/` < `a-b`). Names made of ULIDs and `[0-9A-Za-z._]` come out in the same order everywhere.
   * A missing `dir` lists nothing (no error). The listing is not a snapshot: objects written or
   * deleted during iteration may or may not appear.
   */
  iter(dir: string, opts?: IterOptions): AsyncIterable<string>;

  /** get returns the whole object. The returned array is owned by the caller. */
  get(name: string, opts?: ReadOptions): Promise<Uint8Array>;

  /**
   * getRange returns the bytes `[off, off+length)` of the object; `length = -1` means to the end.
   * A range reaching past the end is truncated, one starting at or past the end is empty. A
   * missing object fails here (not found), never later. `off < 0` or `length < -1` is a
   * RangeError.
   */
  getRange(name: string, off: number, length: number, opts?: ReadOptions): Promise<Uint8Array>;

  /** exists reports whether the object exists; not found is `false`, not an error. Directories are not objects. */
  exists(name: string, opts?: ReadOptions): Promise<boolean>;

  /** attributes returns size and modification time of an object (not found is an error). */
  attributes(name: string, opts?: ReadOptions): Promise<ObjectAttributes>;

  /** isObjNotFoundErr reports whether err (from this bucket) means the object does not exist. */
  isObjNotFoundErr(err: unknown): boolean;

  /** isAccessDeniedErr reports whether err means the store refused access (credentials or policy). */
  isAccessDeniedErr(err: unknown): boolean;
}

/**
 * Bucket is a read-write object store bucket, Thanos' `objstore.Bucket`.
 */
export interface Bucket extends BucketReader {
  /**
   * upload creates or replaces the object `name` with the given bytes (a byte array or a stream
   * of chunks; the chunks are consumed once and not retained). Uploads are idempotent; after the
   * promise resolves the object is visible to every reader (read-after-write consistency). If the
   * upload fails or is aborted, no partial object becomes visible (a previous version stays).
   */
  upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: UploadOptions): Promise<void>;

  /**
   * delete removes the object `name`. Deleting a missing object is not an error in our
   * implementations, but callers must accept both behaviours from other stores and never use
   * delete to detect absence. FILESYSTEM also removes a whole directory when `name` ends in `/`.
   */
  delete(name: string, opts?: ReadOptions): Promise<void>;

  /** name returns a human-readable bucket name for logs and metric labels. */
  name(): string;

  /** close releases connections and handles; the bucket must not be used afterwards. */
  close(): Promise<void>;
}
