import type { Bucket, IterOptions, ObjectAttributes, ReadOptions, UploadOptions } from './bucket.js';
import { readAllBytes, sliceRange } from './bytes.js';
import { checkRange, dirPrefix, validateObjectName } from './object-name.js';
import { ObjNotFoundError, isObjAccessDeniedError, isObjNotFoundError } from './objstore-errors.js';

/** InMemoryBucketOptions configure an {@link InMemoryBucket}. */
export interface InMemoryBucketOptions {
  /** name is reported by `name()` and used in error messages (default `inmem`). */
  readonly name?: string;
  /** now is the clock used for `lastModified` (default `Date.now`). */
  readonly now?: () => number;
}

interface StoredObject {
  readonly data: Uint8Array;
  readonly lastModified: number;
}

/**
 * InMemoryBucket keeps objects in a Map; for tests and single-process tools. Listing follows S3
 * semantics (sorted by full key, common prefixes as `dir/`). Stored bytes are copied on upload, so
 * callers may reuse their buffers; `get` returns a fresh copy.
 */
export class InMemoryBucket implements Bucket {
  readonly #objects = new Map<string, StoredObject>();
  readonly #name: string;
  readonly #now: () => number;

  constructor(opts: InMemoryBucketOptions = {}) {
    this.#name = opts.name ?? 'inmem';
    this.#now = opts.now ?? Date.now;
  }

  async *iter(dir: string, opts: IterOptions = {}): AsyncIterable<string> {
    validateObjectName(dir, 'list', this.#name, true);
    opts.signal?.throwIfAborted();
    const prefix = dirPrefix(dir);
    const keys = [...this.#objects.keys()].filter((k) => k.startsWith(prefix) && k !== prefix).sort(compareKeys);
    let lastDir = '';
    for (const k of keys) {
      opts.signal?.throwIfAborted();
      if (opts.recursive === true) {
        yield k;
        continue;
      }
      const slash = k.indexOf('/', prefix.length);
      if (slash < 0) {
        yield k;
        continue;
      }
      const d = k.slice(0, slash + 1);
      if (d !== lastDir) {
        lastDir = d;
        yield d;
      }
    }
  }

  async get(name: string, opts: ReadOptions = {}): Promise<Uint8Array> {
    return (await this.getRange(name, 0, -1, opts)).slice();
  }

  async getRange(name: string, off: number, length: number, opts: ReadOptions = {}): Promise<Uint8Array> {
    checkRange(off, length);
    const obj = this.#lookup(name, 'get', opts);
    return sliceRange(obj.data, off, length).slice();
  }

  async exists(name: string, opts: ReadOptions = {}): Promise<boolean> {
    validateObjectName(name, 'check existence of', this.#name);
    opts.signal?.throwIfAborted();
    return this.#objects.has(name);
  }

  async attributes(name: string, opts: ReadOptions = {}): Promise<ObjectAttributes> {
    const obj = this.#lookup(name, 'read attributes of', opts);
    return { size: obj.data.length, lastModified: obj.lastModified };
  }

  async upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: UploadOptions = {}): Promise<void> {
    validateObjectName(name, 'upload', this.#name);
    opts.signal?.throwIfAborted();
    const bytes = await readAllBytes(data, opts.signal);
    opts.signal?.throwIfAborted();
    this.#objects.set(name, { data: bytes, lastModified: this.#now() });
  }

  async delete(name: string, opts: ReadOptions = {}): Promise<void> {
    validateObjectName(name, 'delete', this.#name, true);
    if (name === '') validateObjectName(name, 'delete', this.#name);
    opts.signal?.throwIfAborted();
    this.#objects.delete(name);
  }

  isObjNotFoundErr(err: unknown): boolean {
    return isObjNotFoundError(err);
  }

  isAccessDeniedErr(err: unknown): boolean {
    return isObjAccessDeniedError(err);
  }

  name(): string {
    return this.#name;
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  /** objects returns the stored object names, sorted; for tests. */
  objectNames(): string[] {
    return [...this.#objects.keys()].sort(compareKeys);
  }

  #lookup(name: string, action: string, opts: ReadOptions): StoredObject {
    validateObjectName(name, action, this.#name);
    opts.signal?.throwIfAborted();
    const obj = this.#objects.get(name);
    if (obj === undefined) throw new ObjNotFoundError(name, `${action} object ${JSON.stringify(name)} in bucket ${this.#name}: object not found`);
    return obj;
  }
}

/** compareKeys orders keys by UTF-8 bytes, as S3 does (UTF-16 order differs above U+FFFF only). */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
