import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, realpath, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Bucket, IterOptions, ObjectAttributes, ReadOptions, UploadOptions } from './bucket.js';
import { SourceFailure, guardSource } from './bytes.js';
import { checkRange, dirPrefix, validateObjectName } from './object-name.js';
import {
  InvalidObjectNameError,
  ObjNotFoundError,
  ObjstoreError,
  ObjstoreIoError,
  isObjAccessDeniedError,
  isObjNotFoundError,
} from './objstore-errors.js';

/** FilesystemBucketOptions configure a {@link FilesystemBucket}. */
export interface FilesystemBucketOptions {
  /** directory is the root directory; relative paths are resolved against the working directory. */
  readonly directory: string;
}

const TMP_PREFIX = '.tessera-upload-';
const TMP_SUFFIX = '.tmp';

/**
 * FilesystemBucket stores object `a/b/c` as file `<directory>/a/b/c` (Thanos' FILESYSTEM type,
 * meant for tests and single-node setups).
 *
 * Differences from Thanos, on purpose: uploads go to a temporary file in the target directory
 * that is fsynced and renamed over the target, so readers never see a partial object (temporary
 * files are hidden from listings); and no operation reads or writes outside the root — names with
 * `..`/absolute paths are rejected, and symlinks whose target lies outside the root are treated as
 * invalid names (reads, writes, deletes) or skipped (listings). The checks resolve real paths
 * before every operation; they do not defend against a concurrent attacker swapping directories
 * for symlinks between the check and the I/O.
 *
 * Listing keeps Thanos' semantics: one level, entries sorted by file name, sub-directories as
 * `name/`, empty directories skipped, recursive mode reports files only. Delete removes the path
 * recursively (deleting `x/` removes the directory), then removes emptied parents up to the root;
 * deleting a missing name succeeds.
 */
export class FilesystemBucket implements Bucket {
  readonly #root: string;
  #rootReal: string | undefined;

  constructor(opts: FilesystemBucketOptions) {
    if (opts.directory === '') throw new ObjstoreError('TESSERA_OBJSTORE_CONFIG', 'create filesystem bucket: missing directory for filesystem bucket');
    this.#root = resolve(opts.directory);
  }

  /** directory returns the absolute root directory. */
  directory(): string {
    return this.#root;
  }

  name(): string {
    return this.#root;
  }

  async close(): Promise<void> {
    // No handles are kept open between calls.
  }

  isObjNotFoundErr(err: unknown): boolean {
    return isObjNotFoundError(err);
  }

  isAccessDeniedErr(err: unknown): boolean {
    return isObjAccessDeniedError(err);
  }

  async *iter(dir: string, opts: IterOptions = {}): AsyncIterable<string> {
    validateObjectName(dir, 'list', this.#root, true);
    opts.signal?.throwIfAborted();
    const prefix = dirPrefix(dir);
    const where = await this.#realWithin(this.#path(prefix), 'list', dir);
    if (where === undefined || !where.exists) return;
    const visited = new Set<string>();
    yield* this.#walk(where.real, prefix, opts, visited);
  }

  async *#walk(realDir: string, prefix: string, opts: IterOptions, visited: Set<string>): AsyncIterable<string> {
    if (visited.has(realDir)) return; // symlink loop
    visited.add(realDir);
    let entries;
    try {
      entries = await readdir(realDir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw this.#ioError('list', prefix, err);
    }
    entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    for (const e of entries) {
      opts.signal?.throwIfAborted();
      if (e.name.startsWith(TMP_PREFIX) && e.name.endsWith(TMP_SUFFIX)) continue;
      let real = join(realDir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          real = await realpath(real);
          if (!this.#inside(real)) continue;
          const st = await stat(real);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // dangling link
        }
      }
      const name = prefix + e.name;
      if (isFile) {
        yield name;
      } else if (isDir) {
        if (opts.recursive === true) {
          yield* this.#walk(real, name + '/', opts, visited);
        } else if (!(await isEmptyDir(real))) {
          yield name + '/';
        }
      }
    }
  }

  async get(name: string, opts: ReadOptions = {}): Promise<Uint8Array> {
    return this.getRange(name, 0, -1, opts);
  }

  async getRange(name: string, off: number, length: number, opts: ReadOptions = {}): Promise<Uint8Array> {
    validateObjectName(name, 'get', this.#root);
    checkRange(off, length);
    opts.signal?.throwIfAborted();
    const real = await this.#existingFile(name, 'get');
    let fh;
    try {
      fh = await open(real, 'r');
    } catch (err) {
      throw this.#wrap('get', name, err);
    }
    try {
      const size = (await fh.stat()).size;
      if (off >= size) return new Uint8Array(0);
      const n = length === -1 ? size - off : Math.min(length, size - off);
      const out = new Uint8Array(n);
      let pos = 0;
      while (pos < n) {
        opts.signal?.throwIfAborted();
        const { bytesRead } = await fh.read(out, pos, n - pos, off + pos);
        if (bytesRead === 0) break; // truncated concurrently (cannot happen with our atomic uploads)
        pos += bytesRead;
      }
      return pos === n ? out : out.subarray(0, pos);
    } catch (err) {
      throw this.#wrap('get', name, err);
    } finally {
      await fh.close();
    }
  }

  async exists(name: string, opts: ReadOptions = {}): Promise<boolean> {
    validateObjectName(name, 'check existence of', this.#root);
    opts.signal?.throwIfAborted();
    try {
      await this.#existingFile(name, 'check existence of');
      return true;
    } catch (err) {
      if (isObjNotFoundError(err)) return false;
      throw err;
    }
  }

  async attributes(name: string, opts: ReadOptions = {}): Promise<ObjectAttributes> {
    validateObjectName(name, 'read attributes of', this.#root);
    opts.signal?.throwIfAborted();
    const real = await this.#existingFile(name, 'read attributes of');
    try {
      const st = await stat(real);
      return { size: st.size, lastModified: Math.floor(st.mtimeMs) };
    } catch (err) {
      throw this.#wrap('read attributes of', name, err);
    }
  }

  async upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: UploadOptions = {}): Promise<void> {
    validateObjectName(name, 'upload', this.#root);
    opts.signal?.throwIfAborted();
    const path = this.#path(name);
    const parent = dirname(path);
    // Refuse before creating anything if an existing ancestor escapes the root.
    await this.#realWithin(parent, 'upload', name);
    let realParent: string;
    try {
      await mkdir(parent, { recursive: true });
      await this.#ensureRootReal();
      realParent = await realpath(parent);
    } catch (err) {
      throw this.#ioError('upload', name, err);
    }
    if (!this.#inside(realParent)) throw this.#escapeError('upload', name);
    const tmp = join(realParent, `${TMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}${TMP_SUFFIX}`);
    let fh;
    try {
      fh = await open(tmp, 'wx', 0o644);
    } catch (err) {
      throw this.#ioError('upload', name, err);
    }
    let ok = false;
    try {
      if (data instanceof Uint8Array) {
        await fh.writeFile(data);
      } else {
        for await (const chunk of guardSource(data)) {
          opts.signal?.throwIfAborted();
          await fh.write(chunk);
        }
      }
      opts.signal?.throwIfAborted();
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, join(realParent, basename(path)));
      ok = true;
    } catch (err) {
      if (err instanceof SourceFailure) throw err.error;
      if (err instanceof ObjstoreError || isAbort(err, opts.signal)) throw err;
      throw this.#ioError('upload', name, err);
    } finally {
      await fh?.close().catch(() => undefined);
      if (!ok) await unlink(tmp).catch(() => undefined);
    }
  }

  async delete(name: string, opts: ReadOptions = {}): Promise<void> {
    validateObjectName(name, 'delete', this.#root, true);
    if (name === '') throw new InvalidObjectNameError(`delete "" in bucket ${this.#root}: refusing to delete the bucket root`);
    opts.signal?.throwIfAborted();
    const path = this.#path(name.endsWith('/') ? name.slice(0, -1) : name);
    const where = await this.#realWithin(dirname(path), 'delete', name);
    if (where === undefined || !where.exists) return;
    try {
      // rm does not follow a final symlink: deleting a link removes the link only.
      await rm(join(where.real, basename(path)), { recursive: true, force: true });
    } catch (err) {
      throw this.#ioError('delete', name, err);
    }
    // Remove now-empty parents up to (not including) the root.
    let d = where.real;
    while (this.#inside(d) && d !== this.#rootReal) {
      try {
        await rmdir(d);
      } catch {
        break; // not empty (or gone): stop
      }
      d = dirname(d);
    }
  }

  #path(name: string): string {
    return name === '' ? this.#root : join(this.#root, ...name.split('/').filter((s) => s !== ''));
  }

  #inside(real: string): boolean {
    const root = this.#rootReal;
    return root !== undefined && (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep));
  }

  async #ensureRootReal(): Promise<boolean> {
    if (this.#rootReal !== undefined) return true;
    try {
      this.#rootReal = await realpath(this.#root);
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw this.#ioError('open', '', err);
    }
  }

  /**
   * realWithin resolves path (inside the logical root) to its real path if it exists, or to the
   * real path of its deepest existing ancestor plus the missing tail. Throws InvalidObjectNameError
   * when that real path leaves the root; returns undefined when the root itself does not exist.
   */
  async #realWithin(path: string, action: string, name: string): Promise<{ real: string; exists: boolean } | undefined> {
    if (!(await this.#ensureRootReal())) return undefined;
    const tail: string[] = [];
    let p = path;
    for (;;) {
      try {
        const real = await realpath(p);
        if (!this.#inside(real)) throw this.#escapeError(action, name);
        return tail.length === 0 ? { real, exists: true } : { real: join(real, ...tail.reverse()), exists: false };
      } catch (err) {
        if (err instanceof ObjstoreError) throw err;
        if (!isMissing(err)) throw this.#ioError(action, name, err);
        if (p === this.#root || !isAbsolute(p)) return undefined;
        tail.push(basename(p));
        p = dirname(p);
      }
    }
  }

  async #existingFile(name: string, action: string): Promise<string> {
    const where = await this.#realWithin(this.#path(name), action, name);
    if (where !== undefined && where.exists) {
      try {
        if ((await stat(where.real)).isFile()) return where.real;
      } catch (err) {
        if (!isMissing(err)) throw this.#ioError(action, name, err);
      }
    }
    throw new ObjNotFoundError(name, `${action} object ${JSON.stringify(name)} in filesystem bucket ${this.#root}: object not found`);
  }

  #escapeError(action: string, name: string): InvalidObjectNameError {
    return new InvalidObjectNameError(`${action} ${JSON.stringify(name)} in filesystem bucket ${this.#root}: path resolves outside the bucket directory (symlink)`);
  }

  #ioError(action: string, name: string, err: unknown): ObjstoreIoError {
    return new ObjstoreIoError(`${action} ${JSON.stringify(name)} in filesystem bucket ${this.#root}: ${(err as Error).message}`, { cause: err });
  }

  #wrap(action: string, name: string, err: unknown): Error {
    if (err instanceof ObjstoreError) return err;
    if (isMissing(err)) return new ObjNotFoundError(name, `${action} object ${JSON.stringify(name)} in filesystem bucket ${this.#root}: object not found`, { cause: err });
    if (err instanceof Error && err.name === 'AbortError') return err;
    return this.#ioError(action, name, err);
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && err === signal.reason;
}

async function isEmptyDir(path: string): Promise<boolean> {
  try {
    const d = await readdir(path);
    return d.every((n) => n.startsWith(TMP_PREFIX) && n.endsWith(TMP_SUFFIX));
  } catch {
    return true;
  }
}
