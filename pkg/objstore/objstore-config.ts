import { parse as parseYaml } from 'yaml';
import { ObjstoreConfigError } from './objstore-errors.js';

/** ObjstoreType lists the provider types of the Thanos objstore configuration. */
export type ObjstoreType = 'FILESYSTEM' | 'S3' | 'GCS' | 'AZURE' | 'SWIFT' | 'COS' | 'ALIYUNOSS' | 'BOS' | 'OCI' | 'OBS';

const TYPES: readonly ObjstoreType[] = ['FILESYSTEM', 'S3', 'GCS', 'AZURE', 'SWIFT', 'COS', 'ALIYUNOSS', 'BOS', 'OCI', 'OBS'];
const OUTER_KEYS = new Set(['type', 'config', 'prefix']);

/** ObjstoreConfig is the parsed outer objstore document; `config` is still the raw provider map. */
export interface ObjstoreConfig {
  readonly type: ObjstoreType;
  readonly config: unknown;
  /** prefix has its surrounding slashes trimmed; "" means none. */
  readonly prefix: string;
}

/**
 * substituteEnv replaces every `$(NAME)` (NAME = `[a-zA-Z_0-9]+`) with the environment variable
 * NAME, as Thanos does before parsing; a reference to an unset variable is an error.
 */
export function substituteEnv(text: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return text.replace(/\$\(([a-zA-Z_0-9]+)\)/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) throw new ObjstoreConfigError(`expand objstore config: environment variable ${JSON.stringify(name)} referenced as $(${name}) is not set`);
    return v;
  });
}

/**
 * parseObjstoreConfig parses Thanos objstore YAML: env substitution first, then a strict outer
 * document (`type`, `config`, `prefix`; unknown keys and duplicate keys are errors). The type is
 * case-insensitive. Provider `config` maps are validated by the provider (see newBucketFromConfig).
 */
export function parseObjstoreConfig(yamlText: string, env?: Readonly<Record<string, string | undefined>>): ObjstoreConfig {
  const text = substituteEnv(yamlText, env);
  if (text.trim() === '') throw new ObjstoreConfigError('parse objstore config: empty configuration');
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, strict: true });
  } catch (err) {
    throw new ObjstoreConfigError(`parse objstore config: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ObjstoreConfigError('parse objstore config: the document must be a mapping with keys type, config, prefix');
  }
  const obj = doc as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!OUTER_KEYS.has(k)) throw new ObjstoreConfigError(`parse objstore config: field ${k} not found in type client.BucketConfig (allowed: type, config, prefix)`);
  }
  const rawType = obj['type'];
  if (typeof rawType !== 'string' || rawType === '') throw new ObjstoreConfigError('parse objstore config: missing type');
  const type = TYPES.find((t) => t === rawType.toUpperCase());
  if (type === undefined) throw new ObjstoreConfigError(`parse objstore config: unsupported objstore type ${JSON.stringify(rawType)}`);
  const prefix = obj['prefix'] ?? '';
  if (typeof prefix !== 'string') throw new ObjstoreConfigError('parse objstore config: prefix must be a string');
  return { type, config: obj['config'] ?? {}, prefix: prefix.replace(/^\/+|\/+$/g, '') };
}
