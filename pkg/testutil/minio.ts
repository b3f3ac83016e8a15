import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, startProcess, waitForHttp, type ManagedProcess } from './external.js';

/** MinioServer is a MinIO process started for a test on a loopback port with a temp data dir. */
export interface MinioServer {
  /** endpoint is `127.0.0.1:<port>` (no scheme), as objstore S3 configs want it. */
  readonly endpoint: string;
  /** url is `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly dataDir: string;
  /** process is the running MinIO process (a new one after `restart`). */
  readonly process: ManagedProcess;
  /** createBucket creates a bucket (name: 3–63 lower-case letters, digits, `-`). */
  createBucket(name: string): Promise<void>;
  /** s3Config returns the Thanos S3 objstore `config` map for bucket. */
  s3Config(bucket: string): Record<string, unknown>;
  /**
   * halt kills MinIO (SIGKILL, like a crash or a pulled plug) and keeps its data dir, so that
   * `restart` can bring the same objects back. Requests to it then fail with connection errors.
   */
  halt(): Promise<void>;
  /** restart starts MinIO again on the same port and data dir (halting it first if it runs). */
  restart(): Promise<void>;
  /** stop terminates MinIO and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * startMinio starts `minio server <tmpdir>` on free 127.0.0.1 ports (API and console) and waits
 * until `/minio/health/live` answers. Get bin from `requireBinary('minio')`.
 */
export async function startMinio(bin: string, opts: { accessKey?: string; secretKey?: string; timeoutMs?: number } = {}): Promise<MinioServer> {
  const accessKey = opts.accessKey ?? 'tessera-test';
  const secretKey = opts.secretKey ?? 'tessera-test-secret';
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-minio-'));
  let port = 0;
  let consolePort = 0;
  let endpoint = '';
  let url = '';
  const pickPorts = async (): Promise<void> => {
    port = await freePort();
    consolePort = await freePort();
    while (consolePort === port) consolePort = await freePort();
    endpoint = `127.0.0.1:${port}`;
    url = `http://${endpoint}`;
  };
  await pickPorts();
  const launch = async (): Promise<ManagedProcess> => {
    const proc = startProcess(bin, ['server', dataDir, '--quiet', '--address', endpoint, '--console-address', `127.0.0.1:${consolePort}`], {
      env: { MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off', HOME: dataDir },
    });
    const closed = new Promise<void>((resolve) => proc.proc.once('close', () => resolve()));
    const exitedEarly = new Promise<never>((_, reject) => {
      proc.proc.once('exit', (code) => reject(new Error(`minio exited early with code ${code}`)));
    });
    exitedEarly.catch(() => undefined); // the later, normal exit must not become an unhandled rejection
    try {
      await Promise.race([waitForHttp(`${url}/minio/health/live`, opts.timeoutMs ?? 30_000), exitedEarly]);
    } catch (err) {
      await proc.kill();
      // 'exit' can come before the last output, which names the reason
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      throw new Error(`start minio at ${url}: ${(err as Error).message}\n${proc.output()}`, { cause: err });
    }
    return proc;
  };
  // freePort only proposes ports: another process on a shared machine can take one (even as the
  // local port of an outgoing connection) before MinIO binds it; then start on new ones.
  const firstLaunch = async (): Promise<ManagedProcess> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch();
      } catch (err) {
        if (attempt >= 4 || !/already in use|EADDRINUSE/i.test((err as Error).message)) throw err;
        await pickPorts();
      }
    }
  };
  let proc: ManagedProcess;
  try {
    proc = await firstLaunch();
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const client = new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
  return {
    endpoint,
    url,
    accessKey,
    secretKey,
    dataDir,
    get process() {
      return proc;
    },
    async createBucket(name: string) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    s3Config(bucket: string) {
      return { bucket, endpoint, access_key: accessKey, secret_key: secretKey, insecure: true };
    },
    async halt() {
      await proc.kill();
    },
    async restart() {
      await proc.kill();
      proc = await launch();
    },
    async stop() {
      client.destroy();
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
