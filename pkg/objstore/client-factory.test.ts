import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTesseraError } from '../errors/index.js';
import {
  FilesystemBucket,
  InstrumentedBucket,
  PrefixedBucket,
  S3Bucket,
  newBucketFromConfig,
  parseDuration,
  parseObjstoreConfig,
  parseS3Config,
  readObjstoreFlags,
} from './index.js';

const configError = (fn: () => unknown, re: RegExp) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isTesseraError(err, 'TESSERA_OBJSTORE_CONFIG'), String(err)).toBe(true);
  expect((err as Error).message).toMatch(re);
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-objcfg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseObjstoreConfig', () => {
  test('type is case-insensitive, prefix slashes are trimmed', () => {
    const c = parseObjstoreConfig('type: filesystem\nconfig:\n  directory: /data\nprefix: /a/b/\n');
    expect(c).toEqual({ type: 'FILESYSTEM', config: { directory: '/data' }, prefix: 'a/b' });
  });

  test('$(ENV) is substituted before parsing; an unset variable is an error', () => {
    const c = parseObjstoreConfig('type: S3\nconfig:\n  bucket: $(B_NAME)\n  endpoint: "$(HOST):9000"\n', { B_NAME: 'blocks', HOST: 'minio' });
    expect(c.config).toEqual({ bucket: 'blocks', endpoint: 'minio:9000' });
    configError(() => parseObjstoreConfig('type: S3\nconfig:\n  bucket: $(NOT_SET_ANYWHERE)\n', {}), /NOT_SET_ANYWHERE/);
  });

  test.each([
    ['unknown outer key', 'type: S3\nconfig: {}\nprefixx: a\n', /prefixx/],
    ['duplicate key', 'type: S3\ntype: GCS\n', /type|[Dd]uplicate|unique/],
    ['empty document', '  \n', /empty/],
    ['missing type', 'config: {}\n', /missing type/],
    ['unknown type', 'type: DROPBOX\n', /DROPBOX/],
    ['not a mapping', '- a\n- b\n', /mapping/],
  ])('%s is an error', (_what, yaml, re) => {
    configError(() => parseObjstoreConfig(yaml, {}), re);
  });
});

describe('parseS3Config', () => {
  test('defaults', () => {
    const c = parseS3Config({ bucket: 'b', endpoint: 'minio:9000' });
    expect(c.partSize).toBe(64 * 1024 * 1024);
    expect(c.bucketLookupType).toBe('auto');
    expect(c.listObjectsVersion).toBe('v2');
    expect(c.insecure).toBe(false);
    expect(c.http.responseHeaderTimeoutMs).toBe(120_000);
    expect(c.http.idleConnTimeoutMs).toBe(90_000);
  });

  test('http_config durations and put_user_metadata', () => {
    const c = parseS3Config({ bucket: 'b', endpoint: 'e', http_config: { response_header_timeout: '1m30s', idle_conn_timeout: '500ms' }, put_user_metadata: { 'X-Amz-Storage-Class': 'STANDARD_IA', team: 'x' } });
    expect(c.http.responseHeaderTimeoutMs).toBe(90_000);
    expect(c.http.idleConnTimeoutMs).toBe(500);
    expect(c.putUserMetadata).toEqual({ 'X-Amz-Storage-Class': 'STANDARD_IA', team: 'x' });
  });

  test.each([
    ['unknown key', { bucket: 'b', endpoint: 'e', acces_key: 'x' }, /acces_key/],
    ['unknown http_config key', { bucket: 'b', endpoint: 'e', http_config: { idle_timeout: '1s' } }, /idle_timeout/],
    ['missing endpoint', { bucket: 'b' }, /endpoint/],
    ['bad bucket_lookup_type', { bucket: 'b', endpoint: 'e', bucket_lookup_type: 'dns' }, /bucket_lookup_type/],
    ['bad list_objects_version', { bucket: 'b', endpoint: 'e', list_objects_version: 'v3' }, /list objects version/],
    ['access_key without secret', { bucket: 'b', endpoint: 'e', access_key: 'a' }, /secret_key/],
    ['aws_sdk_auth with access_key', { bucket: 'b', endpoint: 'e', access_key: 'a', secret_key: 's', aws_sdk_auth: true }, /mutually exclusive/],
    ['bad sse type', { bucket: 'b', endpoint: 'e', sse_config: { type: 'sse-s3' } }, /sse-s3/],
    ['SSE-KMS without key id', { bucket: 'b', endpoint: 'e', sse_config: { type: 'SSE-KMS' } }, /kms_key_id/],
    ['bad duration', { bucket: 'b', endpoint: 'e', http_config: { idle_conn_timeout: '10 seconds' } }, /duration/],
    ['cert without key', { bucket: 'b', endpoint: 'e', http_config: { tls_config: { cert_file: '/c' } } }, /key file/],
    ['tiny part size', { bucket: 'b', endpoint: 'e', part_size: 1024 }, /part_size/],
    ['wrong type', { bucket: 'b', endpoint: 'e', insecure: 'yes' }, /insecure/],
  ])('%s is an error', (_what, raw, re) => {
    configError(() => parseS3Config(raw), re);
  });
});

test.each([
  ['90s', 90_000],
  ['1m30s', 90_000],
  ['2h', 7_200_000],
  ['1d', 86_400_000],
  ['250ms', 250],
  ['0', 0],
  ['1.5s', 1500],
])('parseDuration(%j) = %i', (s, ms) => {
  expect(parseDuration(s)).toBe(ms);
});
test.each(['', '10', 's', '1x', '1s ', '-1s'])('parseDuration(%j) is invalid', (s) => {
  expect(parseDuration(s)).toBeUndefined();
});

describe('newBucketFromConfig', () => {
  test('FILESYSTEM is lenient about unknown keys, applies the prefix, and works end to end', async () => {
    const bkt = newBucketFromConfig(`type: FILESYSTEM\nconfig:\n  directory: ${dir}/fs\n  unknown_key: 1\nprefix: tenant\n`, { component: 'test' });
    expect(bkt).toBeInstanceOf(PrefixedBucket);
    await bkt.upload('a/b', new Uint8Array([1, 2, 3]));
    const raw = new FilesystemBucket({ directory: join(dir, 'fs') });
    expect([...(await raw.get('tenant/a/b'))]).toEqual([1, 2, 3]);
  });

  test('a relative FILESYSTEM directory is made absolute', () => {
    const bkt = newBucketFromConfig('type: FILESYSTEM\nconfig:\n  directory: rel/dir\n', { component: 'test' }) as FilesystemBucket;
    expect(bkt.directory()).toBe(join(process.cwd(), 'rel/dir'));
  });

  test('FILESYSTEM without directory is an error', () => {
    configError(() => newBucketFromConfig('type: FILESYSTEM\nconfig: {}\n', { component: 'store' }), /missing directory for filesystem bucket/);
  });

  test('S3 config builds an S3Bucket; unsupported providers are rejected clearly', async () => {
    const b = newBucketFromConfig('type: s3\nconfig:\n  bucket: blocks\n  endpoint: minio:9000\n  insecure: true\n', { component: 'test' });
    expect(b).toBeInstanceOf(S3Bucket);
    expect((b as S3Bucket).endpoint()).toBe('http://minio:9000');
    await b.close();
    configError(() => newBucketFromConfig('type: GCS\nconfig:\n  bucket: b\n', { component: 'test' }), /GCS is not supported yet/);
    configError(() => newBucketFromConfig('type: S3\nconfig:\n  bucket: b\n  endpoint: e\n  signature_version2: true\n', { component: 'test' }), /signature_version2/);
  });

  test('with a registry the bucket is instrumented', async () => {
    const registry = new Registry();
    const bkt = newBucketFromConfig(`type: FILESYSTEM\nconfig:\n  directory: ${dir}/inst\n`, { component: 'test', registry });
    expect(bkt).toBeInstanceOf(InstrumentedBucket);
    await bkt.upload('x', new Uint8Array([1, 2]));
    await bkt.get('x');
    await bkt.get('missing').catch(() => undefined); // expected not-found: not a failure
    await bkt.upload('../bad', new Uint8Array(1)).catch(() => undefined); // a failure
    const text = await registry.metrics();
    expect(text).toMatch(new RegExp(`thanos_objstore_bucket_operations_total\\{bucket="${dir}/inst",operation="get"\\} 2`));
    expect(text).toMatch(/thanos_objstore_bucket_operation_failures_total\{[^}]*operation="get"\} 0/);
    expect(text).toMatch(/thanos_objstore_bucket_operation_failures_total\{[^}]*operation="upload"\} 1/);
    expect(text).toMatch(/thanos_objstore_bucket_operation_fetched_bytes_total\{[^}]*operation="get"\} 2/);
    expect(text).toMatch(/thanos_objstore_bucket_operation_duration_seconds_count\{[^}]*operation="upload"\} 1/);
    expect(text).toMatch(/thanos_objstore_bucket_last_successful_upload_time\{[^}]*\} [1-9]/);
  });
});

describe('readObjstoreFlags', () => {
  test('file or inline content; both or neither is an error', async () => {
    const f = join(dir, 'objstore.yml');
    await writeFile(f, 'type: FILESYSTEM\nconfig:\n  directory: /x\n');
    expect(await readObjstoreFlags(f, '')).toContain('FILESYSTEM');
    expect(await readObjstoreFlags('', 'type: S3')).toBe('type: S3');
    await expect(readObjstoreFlags(f, 'type: S3')).rejects.toThrow(/both/);
    await expect(readObjstoreFlags('', '')).rejects.toThrow(/required/);
    expect(await readObjstoreFlags('', '', false)).toBe('');
    await expect(readObjstoreFlags(join(dir, 'nope.yml'), '')).rejects.toThrow(/nope\.yml/);
  });
});
