import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTesseraError } from '../errors/index.js';
import { freePort, requireBinary, startMinio, type MinioServer } from '../testutil/index.js';
import { bucketAcceptanceSuite } from './acceptance.js';
import { newBucketFromConfig, parseS3Config, S3Bucket, type Bucket } from './index.js';

const minioBin = requireBinary('minio');

describe.skipIf(minioBin === undefined)('S3Bucket against a real MinIO', () => {
  let minio: MinioServer;
  let n = 0;
  beforeAll(async () => {
    minio = await startMinio(minioBin!);
  });
  afterAll(async () => {
    await minio?.stop();
  });

  const fresh = async (extra: Record<string, unknown> = {}): Promise<S3Bucket> => {
    const name = `acc-${process.pid}-${++n}`;
    await minio.createBucket(name);
    return new S3Bucket(parseS3Config({ ...minio.s3Config(name), ...extra }));
  };

  bucketAcceptanceSuite('minio (path style, ListObjectsV2)', () => fresh());
  bucketAcceptanceSuite('minio (ListObjectsV1)', () => fresh({ list_objects_version: 'v1' }));
  bucketAcceptanceSuite('minio via YAML with prefix', async () => {
    const name = `acc-${process.pid}-${++n}`;
    await minio.createBucket(name);
    const yaml = `type: s3\nprefix: /tenant-1/\nconfig:\n  bucket: ${name}\n  endpoint: $(TEST_MINIO_ENDPOINT)\n  access_key: ${minio.accessKey}\n  secret_key: ${minio.secretKey}\n  insecure: true\n  bucket_lookup_type: auto\n`;
    return newBucketFromConfig(yaml, { component: 'test', env: { TEST_MINIO_ENDPOINT: minio.endpoint } });
  });

  test('listing pages through more than 1000 keys', async () => {
    const bkt = await fresh();
    try {
      const names = Array.from({ length: 1100 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((k) => bkt.upload(k, new Uint8Array([1]))));
      const got: string[] = [];
      for await (const k of bkt.iter('p/')) got.push(k);
      expect(got).toEqual(names);
    } finally {
      await bkt.close();
    }
  });

  test('multipart upload of a stream larger than part_size, and abort on failure', async () => {
    const bkt = await fresh({ part_size: 5 * 1024 * 1024 });
    try {
      const total = 11 * 1024 * 1024 + 123;
      const chunk = 1024 * 1024 - 7; // not aligned to parts
      async function* gen(fail: boolean): AsyncIterable<Uint8Array> {
        let off = 0;
        while (off < total) {
          const len = Math.min(chunk, total - off);
          const b = new Uint8Array(len);
          for (let i = 0; i < len; i++) b[i] = (off + i) % 251;
          yield b;
          off += len;
          if (fail && off > 6 * 1024 * 1024) throw new Error('source broke mid-stream');
        }
      }
      await bkt.upload('big', gen(false));
      const attrs = await bkt.attributes('big');
      expect(attrs.size).toBe(total);
      const tail = await bkt.getRange('big', total - 10, -1);
      expect([...tail]).toEqual(Array.from({ length: 10 }, (_, i) => (total - 10 + i) % 251));
      const mid = await bkt.getRange('big', 5 * 1024 * 1024 - 2, 4);
      expect([...mid]).toEqual(Array.from({ length: 4 }, (_, i) => (5 * 1024 * 1024 - 2 + i) % 251));

      // A byte array above part_size goes multipart too (parts are views, not copies).
      const arr = new Uint8Array(10 * 1024 * 1024 + 1);
      for (let i = 0; i < arr.length; i += 4096) arr[i] = (i / 4096) & 0xff;
      await bkt.upload('big-array', arr);
      expect(Buffer.compare(await bkt.get('big-array'), arr)).toBe(0);

      const err = await bkt.upload('big-failed', gen(true)).then(() => undefined, (e: unknown) => e);
      expect((err as Error).message).toBe('source broke mid-stream'); // the caller's error, not blamed on the store
      expect(await bkt.exists('big-failed')).toBe(false);
      const raw = new S3Client({ endpoint: minio.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey } });
      try {
        // A multipart object's ETag ends in -<parts>: 11 MiB in 5 MiB parts is 3 parts.
        const head = await raw.send(new HeadObjectCommand({ Bucket: bkt.name(), Key: 'big' }));
        expect(head.ETag).toMatch(/-3"$/);
        const headArr = await raw.send(new HeadObjectCommand({ Bucket: bkt.name(), Key: 'big-array' }));
        expect(headArr.ETag).toMatch(/-3"$/);
        const ups = await raw.send(new ListMultipartUploadsCommand({ Bucket: bkt.name() }));
        expect(ups.Uploads ?? []).toEqual([]);
      } finally {
        raw.destroy();
      }
    } finally {
      await bkt.close();
    }
  });

  const timed = async (fn: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> => {
    const t0 = Date.now();
    try {
      await fn();
    } catch (err) {
      return { err, ms: Date.now() - t0 };
    }
    throw new Error('expected an error');
  };

  test('wrong credentials: access denied naming bucket and endpoint, quickly', async () => {
    const name = `acc-${process.pid}-${++n}`;
    await minio.createBucket(name);
    const bkt = new S3Bucket(parseS3Config({ ...minio.s3Config(name), secret_key: 'wrong-secret' }));
    try {
      for (const op of [() => bkt.get('x'), () => bkt.exists('x'), () => bkt.upload('x', new Uint8Array(1)), async () => { for await (const _ of bkt.iter('')) { /* */ } }]) {
        const { err, ms } = await timed(op);
        expect(isTesseraError(err, 'TESSERA_OBJ_ACCESS_DENIED'), String(err)).toBe(true);
        expect(bkt.isAccessDeniedErr(err)).toBe(true);
        expect(bkt.isObjNotFoundErr(err)).toBe(false);
        expect((err as Error).message).toContain(name);
        expect((err as Error).message).toContain(minio.url);
        expect(ms).toBeLessThan(10_000);
      }
    } finally {
      await bkt.close();
    }
  });

  test('missing bucket: bucket-not-found naming bucket and endpoint, never "object not found"', async () => {
    const bkt = new S3Bucket(parseS3Config(minio.s3Config('no-such-bucket')));
    try {
      for (const op of [() => bkt.get('x'), () => bkt.exists('x'), () => bkt.attributes('x'), () => bkt.upload('x', new Uint8Array(1)), async () => { for await (const _ of bkt.iter('')) { /* */ } }]) {
        const { err, ms } = await timed(op);
        expect(isTesseraError(err, 'TESSERA_BUCKET_NOT_FOUND'), String(err)).toBe(true);
        expect(bkt.isObjNotFoundErr(err)).toBe(false);
        expect((err as Error).message).toContain('no-such-bucket');
        expect((err as Error).message).toContain(minio.url);
        expect(ms).toBeLessThan(10_000);
      }
    } finally {
      await bkt.close();
    }
  });
});

describe('S3Bucket on a dead endpoint', () => {
  test('closed port: unreachable error naming bucket and endpoint within 10 s', async () => {
    const port = await freePort(); // nothing listens there
    const bkt = new S3Bucket(parseS3Config({ bucket: 'dead', endpoint: `127.0.0.1:${port}`, access_key: 'a', secret_key: 'b', insecure: true }));
    try {
      for (const op of [() => bkt.get('x'), () => bkt.exists('x')]) {
        const t0 = Date.now();
        const err = await op().then(() => undefined, (e: unknown) => e);
        expect(isTesseraError(err, 'TESSERA_OBJSTORE_UNREACHABLE'), String(err)).toBe(true);
        expect((err as Error).message).toContain('"dead"');
        expect((err as Error).message).toContain(`http://127.0.0.1:${port}`);
        expect(Date.now() - t0).toBeLessThan(10_000);
      }
    } finally {
      await bkt.close();
    }
  });

  test('a server that accepts but never answers times out within the configured bound', async () => {
    const server: Server = createServer(() => {
      /* accept and stay silent */
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    const bkt = new S3Bucket(
      parseS3Config({ bucket: 'silent', endpoint: `127.0.0.1:${port}`, access_key: 'a', secret_key: 'b', insecure: true, max_retries: 1, http_config: { response_header_timeout: '1s' } }),
    );
    try {
      const t0 = Date.now();
      const err = await bkt.get('x').then(() => undefined, (e: unknown) => e);
      const ms = Date.now() - t0;
      expect(isTesseraError(err, 'TESSERA_OBJSTORE_UNREACHABLE'), String(err)).toBe(true);
      expect((err as Error).message).toContain('"silent"');
      expect(ms).toBeLessThan(8_000);
    } finally {
      await bkt.close();
      server.close();
    }
  });
});
