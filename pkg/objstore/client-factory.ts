import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import type { Bucket } from './bucket.js';
import { FilesystemBucket } from './filesystem-bucket.js';
import { InstrumentedBucket, newBucketMetrics, type BucketMetrics } from './instrumented-bucket.js';
import { parseObjstoreConfig } from './objstore-config.js';
import { ObjstoreConfigError } from './objstore-errors.js';
import { withPrefix } from './prefixed-bucket.js';
import { S3Bucket, type S3BucketOptions } from './s3-bucket.js';
import { parseS3Config } from './s3-config.js';

/** NewBucketOptions tune {@link newBucketFromConfig}. */
export interface NewBucketOptions {
  /** component names the caller (sidecar, store, compactor, ...) for messages. */
  readonly component: string;
  /** metrics, when given, wraps the bucket in an InstrumentedBucket using these metrics. */
  readonly metrics?: BucketMetrics;
  /** registry, when given without metrics, registers fresh objstore metrics there. */
  readonly registry?: Registry;
  /** env replaces process.env for `$(NAME)` substitution. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** s3 passes client options to the S3 provider. */
  readonly s3?: S3BucketOptions;
}

/**
 * newBucketFromConfig builds a Bucket from Thanos objstore YAML: FILESYSTEM or S3 (other Thanos
 * types are recognised and rejected as not supported yet), with the `prefix` applied, and
 * instrumented when metrics or a registry are given. The FILESYSTEM config is lenient (unknown
 * keys ignored, as in Thanos); the S3 config is strict.
 */
export function newBucketFromConfig(yamlText: string, opts: NewBucketOptions): Bucket {
  const cfg = parseObjstoreConfig(yamlText, opts.env);
  let bucket: Bucket;
  switch (cfg.type) {
    case 'FILESYSTEM': {
      const raw = cfg.config;
      const dir = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>)['directory'] : undefined;
      if (dir !== undefined && dir !== null && typeof dir !== 'string') throw new ObjstoreConfigError(`create ${opts.component} bucket: config.directory must be a string`);
      if (dir === undefined || dir === null || dir === '') throw new ObjstoreConfigError(`create ${opts.component} bucket: missing directory for filesystem bucket`);
      bucket = new FilesystemBucket({ directory: dir });
      break;
    }
    case 'S3':
      bucket = new S3Bucket(parseS3Config(cfg.config), opts.s3);
      break;
    default:
      throw new ObjstoreConfigError(`create ${opts.component} bucket: objstore type ${cfg.type} is not supported yet (FILESYSTEM, S3)`);
  }
  bucket = withPrefix(bucket, cfg.prefix);
  const metrics = opts.metrics ?? (opts.registry !== undefined ? newBucketMetrics(opts.registry) : undefined);
  return metrics !== undefined ? new InstrumentedBucket(bucket, metrics) : bucket;
}

/**
 * readObjstoreFlags returns the objstore YAML given by `--objstore.config-file` (a path) or
 * `--objstore.config` (the content); both set is an error, and so is neither (or empty content)
 * when required.
 */
export async function readObjstoreFlags(configFile: string, configInline: string, required = true): Promise<string> {
  if (configFile !== '' && configInline !== '') {
    throw new ObjstoreConfigError('read objstore config: both --objstore.config-file and --objstore.config are set; use one');
  }
  let text = configInline;
  if (configFile !== '') {
    try {
      text = await readFile(configFile, 'utf8');
    } catch (err) {
      throw new ObjstoreConfigError(`read objstore config file ${configFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (required && text.trim() === '') {
    throw new ObjstoreConfigError(
      configFile !== '' ? `read objstore config file ${configFile}: file is empty` : 'read objstore config: flag --objstore.config-file or --objstore.config is required',
    );
  }
  return text;
}
