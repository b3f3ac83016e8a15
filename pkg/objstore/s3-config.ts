import { parseDuration } from './duration.js';
import { ObjstoreConfigError } from './objstore-errors.js';

/** S3SseConfig is the `sse_config` section of an S3 bucket configuration. */
export interface S3SseConfig {
  readonly type: 'SSE-KMS' | 'SSE-C' | 'SSE-S3';
  readonly kmsKeyId: string;
  readonly kmsEncryptionContext: Readonly<Record<string, string>>;
  /** encryptionKey is the path of the 32-byte SSE-C key file. */
  readonly encryptionKey: string;
}

/** S3HttpConfig is the subset of Thanos' `http_config` that the S3 client honours (durations in ms). */
export interface S3HttpConfig {
  readonly idleConnTimeoutMs: number;
  readonly responseHeaderTimeoutMs: number;
  readonly insecureSkipVerify: boolean;
  readonly tlsHandshakeTimeoutMs: number;
  readonly maxIdleConns: number;
  readonly maxConnsPerHost: number;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly serverName: string;
}

/**
 * S3Config is a parsed Thanos S3 provider configuration with defaults applied. Keys Thanos accepts
 * but we do not act on (`disable_dualstack`, `trace`, `send_content_md5`, `sts_endpoint`,
 * `expect_continue_timeout`, ...) are validated and kept out of this type.
 */
export interface S3Config {
  readonly bucket: string;
  /** endpoint is `host[:port]` without scheme. */
  readonly endpoint: string;
  readonly region: string;
  readonly awsSdkAuth: boolean;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly sessionToken: string;
  readonly insecure: boolean;
  readonly signatureV2: boolean;
  readonly putUserMetadata: Readonly<Record<string, string>>;
  readonly listObjectsVersion: 'v1' | 'v2';
  readonly bucketLookupType: 'auto' | 'virtual-hosted' | 'path';
  readonly disableMultipart: boolean;
  readonly partSize: number;
  readonly sse: S3SseConfig | undefined;
  /** maxRetries is the number of retries after the first attempt (0 = our default of 2). */
  readonly maxRetries: number;
  readonly http: S3HttpConfig;
}

const S3_KEYS = new Set([
  'bucket', 'endpoint', 'region', 'disable_dualstack', 'aws_sdk_auth', 'access_key', 'secret_key', 'session_token',
  'insecure', 'signature_version2', 'put_user_metadata', 'http_config', 'trace', 'list_objects_version',
  'bucket_lookup_type', 'send_content_md5', 'disable_multipart', 'part_size', 'sse_config', 'sts_endpoint', 'max_retries',
]);
const HTTP_KEYS = new Set([
  'idle_conn_timeout', 'response_header_timeout', 'insecure_skip_verify', 'tls_handshake_timeout', 'expect_continue_timeout',
  'max_idle_conns', 'max_idle_conns_per_host', 'max_conns_per_host', 'disable_compression', 'tls_config', 'transport',
]);
const TLS_KEYS = new Set(['ca_file', 'cert_file', 'key_file', 'server_name', 'insecure_skip_verify']);
const SSE_KEYS = new Set(['type', 'kms_key_id', 'kms_encryption_context', 'encryption_key']);
const TRACE_KEYS = new Set(['enable']);

/** S3_DEFAULT_PART_SIZE is Thanos' default multipart part size, 64 MiB. */
export const S3_DEFAULT_PART_SIZE = 64 * 1024 * 1024;

/**
 * parseS3Config validates the `config` map of an S3 objstore configuration strictly (unknown keys
 * and wrong types are errors, as in Thanos) and applies the defaults.
 */
export function parseS3Config(raw: unknown): S3Config {
  const c = section(raw, 'config', S3_KEYS);
  const http = section(c['http_config'] ?? {}, 'config.http_config', HTTP_KEYS);
  const tls = section(http['tls_config'] ?? {}, 'config.http_config.tls_config', TLS_KEYS);
  section(c['trace'] ?? {}, 'config.trace', TRACE_KEYS);
  const endpoint = str(c, 'endpoint', 'config');
  if (endpoint === '') throw new ObjstoreConfigError('parse S3 objstore config: no s3 endpoint in config file (config.endpoint)');
  const accessKey = str(c, 'access_key', 'config');
  const secretKey = str(c, 'secret_key', 'config');
  if ((accessKey === '') !== (secretKey === '')) {
    throw new ObjstoreConfigError('parse S3 objstore config: access_key and secret_key must be set together');
  }
  const awsSdkAuth = bool(c, 'aws_sdk_auth', 'config', false);
  if (awsSdkAuth && accessKey !== '') {
    throw new ObjstoreConfigError('parse S3 objstore config: aws_sdk_auth and access_key are mutually exclusive');
  }
  const lov = str(c, 'list_objects_version', 'config');
  if (lov !== '' && lov !== 'v1' && lov !== 'v2') {
    throw new ObjstoreConfigError(`parse S3 objstore config: initialize s3 client list objects version: ${lov}`);
  }
  const blt = str(c, 'bucket_lookup_type', 'config') || 'auto';
  if (blt !== 'auto' && blt !== 'virtual-hosted' && blt !== 'path') {
    throw new ObjstoreConfigError(`parse S3 objstore config: unsupported bucket_lookup_type ${JSON.stringify(blt)} (auto, virtual-hosted or path)`);
  }
  const partSize = int(c, 'part_size', 'config', S3_DEFAULT_PART_SIZE);
  if (partSize < 5 * 1024 * 1024) throw new ObjstoreConfigError(`parse S3 objstore config: part_size ${partSize} is below the S3 minimum of 5 MiB`);
  const maxRetries = int(c, 'max_retries', 'config', 0);
  if (maxRetries < 0) throw new ObjstoreConfigError(`parse S3 objstore config: max_retries ${maxRetries} is negative`);
  const certFile = str(tls, 'cert_file', 'config.http_config.tls_config');
  const keyFile = str(tls, 'key_file', 'config.http_config.tls_config');
  if ((certFile === '') !== (keyFile === '')) {
    throw new ObjstoreConfigError('parse S3 objstore config: client cert file and key file must both be specified (http_config.tls_config)');
  }
  const meta = stringMap(c['put_user_metadata'], 'config.put_user_metadata');
  return {
    bucket: str(c, 'bucket', 'config'),
    endpoint,
    region: str(c, 'region', 'config'),
    awsSdkAuth,
    accessKey,
    secretKey,
    sessionToken: str(c, 'session_token', 'config'),
    insecure: bool(c, 'insecure', 'config', false),
    signatureV2: bool(c, 'signature_version2', 'config', false),
    putUserMetadata: meta,
    listObjectsVersion: lov === 'v1' ? 'v1' : 'v2',
    bucketLookupType: blt,
    disableMultipart: bool(c, 'disable_multipart', 'config', false),
    partSize,
    sse: parseSse(c['sse_config']),
    maxRetries,
    http: {
      idleConnTimeoutMs: dur(http, 'idle_conn_timeout', 90_000),
      responseHeaderTimeoutMs: dur(http, 'response_header_timeout', 120_000),
      // Thanos quirk kept: the http_config value wins over tls_config.insecure_skip_verify.
      insecureSkipVerify: bool(http, 'insecure_skip_verify', 'config.http_config', false),
      tlsHandshakeTimeoutMs: dur(http, 'tls_handshake_timeout', 10_000),
      maxIdleConns: int(http, 'max_idle_conns', 'config.http_config', 100),
      maxConnsPerHost: int(http, 'max_conns_per_host', 'config.http_config', 0),
      caFile: str(tls, 'ca_file', 'config.http_config.tls_config'),
      certFile,
      keyFile,
      serverName: str(tls, 'server_name', 'config.http_config.tls_config'),
    },
  };
}

function parseSse(raw: unknown): S3SseConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  const s = section(raw, 'config.sse_config', SSE_KEYS);
  const type = str(s, 'type', 'config.sse_config');
  if (type === '') return undefined;
  if (type !== 'SSE-KMS' && type !== 'SSE-C' && type !== 'SSE-S3') {
    throw new ObjstoreConfigError(`parse S3 objstore config: unsupported sse_config type ${JSON.stringify(type)} (SSE-KMS, SSE-C or SSE-S3)`);
  }
  const kmsKeyId = str(s, 'kms_key_id', 'config.sse_config');
  const encryptionKey = str(s, 'encryption_key', 'config.sse_config');
  if (type === 'SSE-KMS' && kmsKeyId === '') throw new ObjstoreConfigError('parse S3 objstore config: sse_config type SSE-KMS needs kms_key_id');
  if (type === 'SSE-C' && encryptionKey === '') throw new ObjstoreConfigError('parse S3 objstore config: sse_config type SSE-C needs encryption_key');
  return { type, kmsKeyId, encryptionKey, kmsEncryptionContext: stringMap(s['kms_encryption_context'], 'config.sse_config.kms_encryption_context') };
}

/** section checks that raw is a mapping with only known keys. */
function section(raw: unknown, where: string, known: ReadonlySet<string>): Record<string, unknown> {
  if (raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ObjstoreConfigError(`parse S3 objstore config: ${where} must be a mapping`);
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!known.has(k)) throw new ObjstoreConfigError(`parse S3 objstore config: field ${k} not found in ${where}`);
  }
  return obj;
}

function str(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ObjstoreConfigError(`parse S3 objstore config: ${where}.${key} must be a string`);
}

function bool(obj: Record<string, unknown>, key: string, where: string, def: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return def;
  if (typeof v === 'boolean') return v;
  throw new ObjstoreConfigError(`parse S3 objstore config: ${where}.${key} must be true or false`);
}

function int(obj: Record<string, unknown>, key: string, where: string, def: number): number {
  const v = obj[key];
  if (v === undefined || v === null) return def;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw new ObjstoreConfigError(`parse S3 objstore config: ${where}.${key} must be an integer`);
}

function dur(obj: Record<string, unknown>, key: string, def: number): number {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return def;
  const ms = typeof v === 'string' ? parseDuration(v) : undefined;
  if (ms === undefined) throw new ObjstoreConfigError(`parse S3 objstore config: config.http_config.${key} ${JSON.stringify(v)} is not a duration`);
  return ms;
}

function stringMap(raw: unknown, where: string): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ObjstoreConfigError(`parse S3 objstore config: ${where} must be a mapping`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new ObjstoreConfigError(`parse S3 objstore config: ${where}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}
