import type { Bucket, IterOptions, ObjectAttributes, ReadOptions, UploadOptions } from './bucket.js';
import { validateObjectName } from './object-name.js';

/**
 * PrefixedBucket stores every object `name` of the wrapped bucket as `<prefix>/name` (Thanos'
 * `prefix` setting); listings strip the prefix again. Slashes around the prefix are trimmed.
 * Use {@link withPrefix} to skip the wrapper for an empty prefix.
 */
export class PrefixedBucket implements Bucket {
  readonly #inner: Bucket;
  readonly #prefix: string;

  constructor(inner: Bucket, prefix: string) {
    const p = prefix.replace(/^\/+|\/+$/g, '');
    validateObjectName(p, 'use prefix', inner.name());
    this.#inner = inner;
    this.#prefix = p + '/';
  }

  async *iter(dir: string, opts: IterOptions = {}): AsyncIterable<string> {
    validateObjectName(dir, 'list', this.name(), true);
    for await (const n of this.#inner.iter(this.#prefix + dir, opts)) {
      if (n.startsWith(this.#prefix)) yield n.slice(this.#prefix.length);
    }
  }

  async get(name: string, opts?: ReadOptions): Promise<Uint8Array> {
    return this.#inner.get(this.#full(name, 'get'), opts);
  }

  async getRange(name: string, off: number, length: number, opts?: ReadOptions): Promise<Uint8Array> {
    return this.#inner.getRange(this.#full(name, 'get'), off, length, opts);
  }

  async exists(name: string, opts?: ReadOptions): Promise<boolean> {
    return this.#inner.exists(this.#full(name, 'check existence of'), opts);
  }

  async attributes(name: string, opts?: ReadOptions): Promise<ObjectAttributes> {
    return this.#inner.attributes(this.#full(name, 'read attributes of'), opts);
  }

  async upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts?: UploadOptions): Promise<void> {
    return this.#inner.upload(this.#full(name, 'upload'), data, opts);
  }

  async delete(name: string, opts?: ReadOptions): Promise<void> {
    return this.#inner.delete(this.#full(name, 'delete', true), opts);
  }

  isObjNotFoundErr(err: unknown): boolean {
    return this.#inner.isObjNotFoundErr(err);
  }

  isAccessDeniedErr(err: unknown): boolean {
    return this.#inner.isAccessDeniedErr(err);
  }

  name(): string {
    return `${this.#inner.name()}/${this.#prefix.slice(0, -1)}`;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  #full(name: string, action: string, dir = false): string {
    // Validate before prefixing: "" or "../x" must not turn into a valid-looking "<prefix>/...".
    validateObjectName(name, action, this.name(), dir);
    if (dir && name === '') validateObjectName(name, action, this.name());
    return this.#prefix + name;
  }
}

/** withPrefix wraps bucket in a PrefixedBucket, or returns it unchanged when prefix is empty after trimming slashes. */
export function withPrefix(bucket: Bucket, prefix: string): Bucket {
  return prefix.replace(/^\/+|\/+$/g, '') === '' ? bucket : new PrefixedBucket(bucket, prefix);
}
