import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Bucket, IterOptions, ObjectAttributes, ReadOptions, UploadOptions } from './bucket.js';
import { SourceFailure, concatBytes, guardSource } from './bytes.js';
import { checkRange, dirPrefix, validateObjectName } from './object-name.js';
import {
  BucketNotFoundError,
  ObjAccessDeniedError,
  ObjNotFoundError,
  ObjstoreConfigError,
  ObjstoreError,
  ObjstoreIoError,
  ObjstoreUnreachableError,
  isObjAccessDeniedError,
  isObjNotFoundError,
} from './objstore-errors.js';
import type { S3Config } from './s3-config.js';

/** S3BucketOptions tune the client beyond the Thanos configuration. */
export interface S3BucketOptions {
  /** connectTimeoutMs bounds each TCP connect (default 3000; Thanos uses 30 s). */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_RETRIES = 2;

type SseParams = {
  ServerSideEncryption?: 'AES256' | 'aws:kms';
  SSEKMSKeyId?: string;
  SSEKMSEncryptionContext?: string;
  SSECustomerAlgorithm?: string;
  SSECustomerKey?: string;
};

/**
 * S3Bucket is a Bucket on any S3-compatible store (AWS S3, MinIO, ...) through
 * `@aws-sdk/client-s3`, configured from Thanos' S3 provider YAML.
 *
 * Addressing: path style when `bucket_lookup_type: path`, or `auto` with an endpoint that is not
 * AWS (what MinIO needs); virtual-hosted otherwise. `insecure: true` means plain http.
 *
 * Failure behaviour: every TCP connect is bounded (3 s), every request waits at most
 * `http_config.response_header_timeout` (2 m) for headers and the socket may idle that long, and
 * transient errors (network, 5xx, throttling) are retried `max_retries` times (default 2) with
 * jittered backoff, so a dead endpoint fails within about 10 s. Errors name the operation, the
 * object, the bucket and the endpoint, and are classified: ObjNotFoundError (missing object),
 * BucketNotFoundError, ObjAccessDeniedError (wrong credentials or policy), ObjstoreUnreachableError
 * (no HTTP response), ObjstoreIoError (anything else).
 *
 * Uploads of at least `part_size` bytes (or streams longer than that) use multipart upload with
 * parts of `part_size`, sent one at a time; a failure aborts the multipart upload so no partial
 * object becomes visible.
 */
export class S3Bucket implements Bucket {
  readonly #cfg: S3Config;
  readonly #client: S3Client;
  readonly #url: string;
  readonly #sse: SseParams;
  readonly #ssecRead: SseParams;
  readonly #storageClass: string | undefined;
  readonly #metadata: Record<string, string>;
  #bucketChecked = false;

  constructor(cfg: S3Config, opts: S3BucketOptions = {}) {
    if (cfg.bucket === '') throw new ObjstoreConfigError('create S3 bucket: config.bucket is empty');
    if (cfg.signatureV2) throw new ObjstoreConfigError('create S3 bucket: signature_version2 is not supported, use SigV4');
    this.#cfg = cfg;
    this.#url = `${cfg.insecure ? 'http' : 'https'}://${cfg.endpoint}`;
    const host = cfg.endpoint.replace(/:\d+$/, '');
    const isAws = /(^|\.)amazonaws\.com(\.cn)?$/i.test(host);
    const forcePathStyle = cfg.bucketLookupType === 'path' || (cfg.bucketLookupType === 'auto' && !isAws);
    const timeout = cfg.http.responseHeaderTimeoutMs;
    const agentOpts = { keepAlive: true, maxSockets: cfg.http.maxConnsPerHost > 0 ? cfg.http.maxConnsPerHost : Infinity, maxFreeSockets: cfg.http.maxIdleConns };
    const httpsAgent = new HttpsAgent({
      ...agentOpts,
      rejectUnauthorized: !cfg.http.insecureSkipVerify,
      ...(cfg.http.caFile !== '' ? { ca: readConfigFile(cfg.http.caFile, 'tls_config.ca_file') } : {}),
      ...(cfg.http.certFile !== '' ? { cert: readConfigFile(cfg.http.certFile, 'tls_config.cert_file'), key: readConfigFile(cfg.http.keyFile, 'tls_config.key_file') } : {}),
      ...(cfg.http.serverName !== '' ? { servername: cfg.http.serverName } : {}),
    });
    const clientCfg: S3ClientConfig = {
      endpoint: this.#url,
      region: cfg.region !== '' ? cfg.region : 'us-east-1',
      forcePathStyle,
      followRegionRedirects: true,
      maxAttempts: (cfg.maxRetries > 0 ? cfg.maxRetries : DEFAULT_MAX_RETRIES) + 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        requestTimeout: timeout,
        socketTimeout: timeout,
        throwOnRequestTimeout: true,
        httpAgent: new HttpAgent(agentOpts),
        httpsAgent,
      },
    };
    if (cfg.accessKey !== '') {
      clientCfg.credentials = {
        accessKeyId: cfg.accessKey,
        secretAccessKey: cfg.secretKey,
        ...(cfg.sessionToken !== '' ? { sessionToken: cfg.sessionToken } : {}),
      };
    }
    this.#client = new S3Client(clientCfg);

    const sse: SseParams = {};
    let ssecRead: SseParams = {};
    if (cfg.sse?.type === 'SSE-S3') sse.ServerSideEncryption = 'AES256';
    if (cfg.sse?.type === 'SSE-KMS') {
      sse.ServerSideEncryption = 'aws:kms';
      sse.SSEKMSKeyId = cfg.sse.kmsKeyId;
      if (Object.keys(cfg.sse.kmsEncryptionContext).length > 0) {
        sse.SSEKMSEncryptionContext = Buffer.from(JSON.stringify(cfg.sse.kmsEncryptionContext)).toString('base64');
      }
    }
    if (cfg.sse?.type === 'SSE-C') {
      const key = readConfigFile(cfg.sse.encryptionKey, 'sse_config.encryption_key');
      if (key.length !== 32) throw new ObjstoreConfigError(`create S3 bucket: SSE-C key file ${cfg.sse.encryptionKey} must hold 32 bytes, has ${key.length}`);
      ssecRead = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64') };
      Object.assign(sse, ssecRead);
    }
    this.#sse = sse;
    this.#ssecRead = ssecRead;
    const meta: Record<string, string> = {};
    let storageClass: string | undefined;
    for (const [k, v] of Object.entries(cfg.putUserMetadata)) {
      if (k.toLowerCase() === 'x-amz-storage-class') storageClass = v;
      else meta[k] = v;
    }
    this.#storageClass = storageClass;
    this.#metadata = meta;
  }

  name(): string {
    return this.#cfg.bucket;
  }

  /** endpoint returns the endpoint URL in use (scheme included). */
  endpoint(): string {
    return this.#url;
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  isObjNotFoundErr(err: unknown): boolean {
    return isObjNotFoundError(err);
  }

  isAccessDeniedErr(err: unknown): boolean {
    return isObjAccessDeniedError(err);
  }

  async *iter(dir: string, opts: IterOptions = {}): AsyncIterable<string> {
    validateObjectName(dir, 'list', this.#cfg.bucket, true);
    const prefix = dirPrefix(dir);
    const delimiter = opts.recursive === true ? undefined : '/';
    let token: string | undefined;
    for (;;) {
      opts.signal?.throwIfAborted();
      let keys: string[];
      let prefixes: string[];
      let next: string | undefined;
      try {
        if (this.#cfg.listObjectsVersion === 'v1') {
          const res = await this.#client.send(
            new ListObjectsCommand({ Bucket: this.#cfg.bucket, Prefix: prefix, Delimiter: delimiter, Marker: token }),
            sendOpts(opts.signal),
          );
          keys = (res.Contents ?? []).map((o) => o.Key ?? '');
          prefixes = (res.CommonPrefixes ?? []).map((p) => p.Prefix ?? '');
          next = res.IsTruncated === true ? (res.NextMarker ?? maxKey(keys, prefixes)) : undefined;
        } else {
          const res = await this.#client.send(
            new ListObjectsV2Command({ Bucket: this.#cfg.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
            sendOpts(opts.signal),
          );
          keys = (res.Contents ?? []).map((o) => o.Key ?? '');
          prefixes = (res.CommonPrefixes ?? []).map((p) => p.Prefix ?? '');
          next = res.IsTruncated === true ? res.NextContinuationToken : undefined;
        }
      } catch (err) {
        throw this.#wrap('list', dir, err, opts.signal);
      }
      // Both lists come sorted by key; merge them into one key-ordered stream.
      let i = 0;
      let j = 0;
      while (i < keys.length || j < prefixes.length) {
        let v: string;
        if (j >= prefixes.length || (i < keys.length && Buffer.compare(Buffer.from(keys[i]!), Buffer.from(prefixes[j]!)) < 0)) v = keys[i++]!;
        else v = prefixes[j++]!;
        if (v === prefix || v === '') continue; // directory marker object
        yield v;
      }
      if (next === undefined || next === '') return;
      token = next;
    }
  }

  async get(name: string, opts: ReadOptions = {}): Promise<Uint8Array> {
    return this.getRange(name, 0, -1, opts);
  }

  async getRange(name: string, off: number, length: number, opts: ReadOptions = {}): Promise<Uint8Array> {
    validateObjectName(name, 'get', this.#cfg.bucket);
    checkRange(off, length);
    if (length === 0) {
      await this.attributes(name, opts);
      return new Uint8Array(0);
    }
    const range = off === 0 && length === -1 ? undefined : length === -1 ? `bytes=${off}-` : `bytes=${off}-${off + length - 1}`;
    try {
      const res = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#cfg.bucket, Key: name, Range: range, ...this.#ssecRead }),
        sendOpts(opts.signal),
      );
      if (res.Body === undefined) return new Uint8Array(0);
      return await res.Body.transformToByteArray();
    } catch (err) {
      // 416: the range starts at or past the end of an existing object.
      if (errName(err) === 'InvalidRange' || statusOf(err) === 416) return new Uint8Array(0);
      throw this.#wrap('get', name, err, opts.signal);
    }
  }

  async exists(name: string, opts: ReadOptions = {}): Promise<boolean> {
    validateObjectName(name, 'check existence of', this.#cfg.bucket);
    try {
      await this.#head(name, 'check existence of', opts);
      return true;
    } catch (err) {
      if (isObjNotFoundError(err)) return false;
      throw err;
    }
  }

  async attributes(name: string, opts: ReadOptions = {}): Promise<ObjectAttributes> {
    validateObjectName(name, 'read attributes of', this.#cfg.bucket);
    const res = await this.#head(name, 'read attributes of', opts);
    return { size: res.ContentLength ?? 0, lastModified: res.LastModified?.getTime() ?? 0 };
  }

  async upload(name: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: UploadOptions = {}): Promise<void> {
    validateObjectName(name, 'upload', this.#cfg.bucket);
    opts.signal?.throwIfAborted();
    const partSize = this.#cfg.disableMultipart ? Number.MAX_SAFE_INTEGER : this.#cfg.partSize;
    const it = parts(data, partSize)[Symbol.asyncIterator]();
    try {
      const first = await it.next();
      const firstPart = first.done === true ? new Uint8Array(0) : first.value;
      const second = first.done === true ? first : await it.next();
      if (second.done === true) {
        await this.#client.send(
          new PutObjectCommand({ ...this.#putParams(name, opts), Body: firstPart, ContentLength: firstPart.length }),
          sendOpts(opts.signal),
        );
        return;
      }
      await this.#multipart(name, opts, firstPart, second.value, it);
    } catch (err) {
      throw this.#wrap('upload', name, err, opts.signal);
    } finally {
      await it.return?.();
    }
  }

  async delete(name: string, opts: ReadOptions = {}): Promise<void> {
    validateObjectName(name, 'delete', this.#cfg.bucket, true);
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#cfg.bucket, Key: name }), sendOpts(opts.signal));
    } catch (err) {
      throw this.#wrap('delete', name, err, opts.signal);
    }
  }

  /** checkBucket verifies that the bucket exists and the credentials are accepted (HeadBucket). */
  async checkBucket(signal?: AbortSignal): Promise<void> {
    await this.#checkBucket('check bucket', '', signal);
  }

  async #checkBucket(action: string, name: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#cfg.bucket }), sendOpts(signal));
      this.#bucketChecked = true;
    } catch (err) {
      if (statusOf(err) === 404) {
        throw new BucketNotFoundError(`${this.#where(action, name)}: bucket does not exist`, { cause: err });
      }
      throw this.#wrap(action, name, err, signal);
    }
  }

  async #head(name: string, action: string, opts: ReadOptions) {
    try {
      return await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#cfg.bucket, Key: name, ...this.#ssecRead }),
        sendOpts(opts.signal),
      );
    } catch (err) {
      // HEAD responses have no body, so a missing bucket also looks like a bare 404; tell them
      // apart once per bucket.
      if (statusOf(err) === 404 && !this.#bucketChecked) await this.#checkBucket(action, name, opts.signal);
      throw this.#wrap(action, name, err, opts.signal);
    }
  }

  #putParams(name: string, opts: UploadOptions) {
    return {
      Bucket: this.#cfg.bucket,
      Key: name,
      ...(opts.contentType !== undefined ? { ContentType: opts.contentType } : {}),
      ...(Object.keys(this.#metadata).length > 0 ? { Metadata: this.#metadata } : {}),
      ...(this.#storageClass !== undefined ? { StorageClass: this.#storageClass as 'STANDARD' } : {}),
      ...this.#sse,
    };
  }

  async #multipart(name: string, opts: UploadOptions, p1: Uint8Array, p2: Uint8Array, rest: AsyncIterator<Uint8Array>): Promise<void> {
    const created = await this.#client.send(new CreateMultipartUploadCommand(this.#putParams(name, opts)), sendOpts(opts.signal));
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new ObjstoreIoError(`upload ${JSON.stringify(name)} to bucket ${this.#cfg.bucket} at endpoint ${this.#url}: CreateMultipartUpload returned no UploadId`);
    const done: CompletedPart[] = [];
    try {
      const send = async (body: Uint8Array) => {
        const n = done.length + 1;
        const res = await this.#client.send(
          new UploadPartCommand({ Bucket: this.#cfg.bucket, Key: name, UploadId: uploadId, PartNumber: n, Body: body, ContentLength: body.length, ...this.#ssecRead }),
          sendOpts(opts.signal),
        );
        done.push({ PartNumber: n, ETag: res.ETag });
      };
      await send(p1);
      await send(p2);
      for (let r = await rest.next(); r.done !== true; r = await rest.next()) await send(r.value);
      await this.#client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.#cfg.bucket, Key: name, UploadId: uploadId, MultipartUpload: { Parts: done } }),
        sendOpts(opts.signal),
      );
    } catch (err) {
      // Best effort; without the abort the parts linger invisibly until a lifecycle rule removes them.
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#cfg.bucket, Key: name, UploadId: uploadId })).catch(() => undefined);
      throw err;
    }
  }

  #where(action: string, name: string): string {
    return `${action}${name !== '' ? ` ${JSON.stringify(name)}` : ''} in bucket ${JSON.stringify(this.#cfg.bucket)} at endpoint ${this.#url}`;
  }

  #wrap(action: string, name: string, err: unknown, signal: AbortSignal | undefined): Error {
    if (err instanceof ObjstoreError) return err;
    if (err instanceof SourceFailure) return err.error instanceof Error ? err.error : new Error(String(err.error));
    if (signal?.aborted === true) return signal.reason instanceof Error ? signal.reason : (err as Error);
    const where = this.#where(action, name);
    const code = errName(err);
    const status = statusOf(err);
    // Bodiless responses (HEAD) come back as "Unknown"/"UnknownError": say only the status then.
    const rawMsg = (err as Error | undefined)?.message ?? String(err);
    const msg = rawMsg === 'UnknownError' ? `no error details (HTTP ${status ?? '?'})` : rawMsg;
    if (code === 'NoSuchKey' || (status === 404 && (code === 'NotFound' || code === 'Unknown'))) {
      return new ObjNotFoundError(name, `${where}: object not found`, { cause: err });
    }
    if (code === 'NoSuchBucket') return new BucketNotFoundError(`${where}: bucket does not exist`, { cause: err });
    if (status === 403 || status === 401 || code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
      return new ObjAccessDeniedError(`${where}: access denied (${code !== 'Unknown' ? `${code}, ` : ''}HTTP ${status ?? '?'}); check access_key/secret_key and the bucket policy: ${msg}`, { cause: err });
    }
    if (status === undefined) {
      const sys = (err as NodeJS.ErrnoException | undefined)?.code;
      return new ObjstoreUnreachableError(`${where}: endpoint unreachable (${sys ?? code}): ${msg}`, { cause: err });
    }
    return new ObjstoreIoError(`${where}: ${code} (HTTP ${status}): ${msg}`, { cause: err });
  }
}

/** parts re-chunks an upload source into parts of exactly partSize bytes (the last may be shorter). */
async function* parts(data: Uint8Array | AsyncIterable<Uint8Array>, partSize: number): AsyncIterable<Uint8Array> {
  if (data instanceof Uint8Array) {
    if (data.length === 0) return;
    for (let off = 0; off < data.length; off += partSize) yield data.subarray(off, Math.min(data.length, off + partSize));
    return;
  }
  let pending: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of guardSource(data)) {
    let c = chunk;
    while (size + c.length >= partSize) {
      const take = partSize - size;
      pending.push(c.subarray(0, take));
      yield concatBytes(pending, partSize);
      pending = [];
      size = 0;
      c = c.subarray(take);
    }
    if (c.length > 0) {
      // Copy: the caller may reuse its buffer after handing it to us.
      pending.push(c.slice());
      size += c.length;
    }
  }
  if (size > 0) yield concatBytes(pending, size);
}

function sendOpts(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal !== undefined ? { abortSignal: signal } : {};
}

function errName(err: unknown): string {
  const e = err as { name?: unknown; Code?: unknown } | undefined;
  if (typeof e?.Code === 'string') return e.Code;
  return typeof e?.name === 'string' ? e.name : 'Error';
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { $metadata?: { httpStatusCode?: unknown }; $response?: { statusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

function maxKey(keys: readonly string[], prefixes: readonly string[]): string | undefined {
  const all = [...keys, ...prefixes].sort();
  return all[all.length - 1];
}

function readConfigFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ObjstoreConfigError(`create S3 bucket: read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}
