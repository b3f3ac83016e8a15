import { readFile, rename, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { TesseraError } from '../../errors/index.js';
import { isUlid } from './ulid.js';

/** META_FILENAME is the name of the block meta file. */
export const META_FILENAME = 'meta.json';
/** META_VERSION is the only meta.json format version. */
export const META_VERSION = 1;

/** BlockStats are the `stats` of meta.json (keys omitted when 0). */
export interface BlockStats {
  numSamples?: number;
  numFloatSamples?: number;
  numHistogramSamples?: number;
  numSeries?: number;
  numChunks?: number;
  numTombstones?: number;
}

/** BlockDesc identifies a parent block in `compaction.parents`. */
export interface BlockDesc {
  ulid: string;
  minTime: number;
  maxTime: number;
}

/** BlockMetaCompaction is the `compaction` section of meta.json. */
export interface BlockMetaCompaction {
  level: number;
  sources?: string[];
  parents?: BlockDesc[];
  deletable?: boolean;
  failed?: boolean;
  hints?: string[];
}

/** ThanosFile is one entry of `thanos.files`. */
export interface ThanosFile {
  rel_path: string;
  size_bytes?: number;
  hash?: { hashFunc: string; value: string };
}

/** ThanosMeta is the `thanos` section of meta.json (exact JSON keys, blocks.md §2.2). */
export interface ThanosMeta {
  version?: number;
  labels: Record<string, string>;
  downsample: { resolution: number };
  source: string;
  segment_files?: string[];
  files?: ThanosFile[];
  rewrites?: unknown[];
  index_stats: { series_max_size?: number; chunk_max_size?: number };
  extensions?: unknown;
  upload_time?: string;
}

/** BlockMeta is a block's meta.json: Prometheus's BlockMeta plus Thanos's optional `thanos` section. */
export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats: BlockStats;
  compaction: BlockMetaCompaction;
  version: number;
  thanos?: ThanosMeta;
}

/** BlockMetaError reports an unreadable or invalid meta.json; `file` names it. */
export class BlockMetaError extends TesseraError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'TESSERA_META_INVALID', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = file;
  }
}

const STAT_KEYS = ['numSamples', 'numFloatSamples', 'numHistogramSamples', 'numSeries', 'numChunks', 'numTombstones'] as const;

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/**
 * parseBlockMeta parses and validates meta.json text. `file` is used in error messages. Thanos's
 * `labels: null` is normalised to `{}`; an absent thanos version is read as 1.
 */
export function parseBlockMeta(text: string, file = META_FILENAME): BlockMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // V8 messages carry "at position N"; keep them.
    throw new BlockMetaError(file, `parse ${file}: ${(err as Error).message}`, { cause: err });
  }
  const bad = (what: string): never => {
    throw new BlockMetaError(file, `validate ${file}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o['version'] !== META_VERSION) bad(`unexpected meta file version ${JSON.stringify(o['version'])}, want ${META_VERSION}`);
  if (typeof o['ulid'] !== 'string' || !isUlid(o['ulid'])) bad(`ulid ${JSON.stringify(o['ulid'])} is not a ULID`);
  if (!isInt(o['minTime']) || !isInt(o['maxTime'])) bad('minTime and maxTime must be integers');
  if ((o['minTime'] as number) > (o['maxTime'] as number)) bad(`minTime ${o['minTime']} after maxTime ${o['maxTime']}`);
  const statsRaw = o['stats'] ?? {};
  if (typeof statsRaw !== 'object' || statsRaw === null) bad('stats must be an object');
  const stats: BlockStats = {};
  for (const k of STAT_KEYS) {
    const v = (statsRaw as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (!isInt(v) || v < 0) bad(`stats.${k} must be a non-negative integer`);
    stats[k] = v as number;
  }
  const c = o['compaction'];
  if (typeof c !== 'object' || c === null) bad('compaction must be an object');
  const cr = c as Record<string, unknown>;
  if (!isInt(cr['level']) || (cr['level'] as number) < 0) bad('compaction.level must be a non-negative integer');
  const compaction: BlockMetaCompaction = { level: cr['level'] as number };
  if (cr['sources'] !== undefined && cr['sources'] !== null) {
    if (!Array.isArray(cr['sources']) || !cr['sources'].every((s) => typeof s === 'string' && isUlid(s))) bad('compaction.sources must be ULIDs');
    compaction.sources = cr['sources'] as string[];
  }
  if (cr['parents'] !== undefined && cr['parents'] !== null) {
    if (!Array.isArray(cr['parents'])) bad('compaction.parents must be an array');
    compaction.parents = (cr['parents'] as unknown[]).map((p, i) => {
      const pr = p as Record<string, unknown>;
      if (typeof pr !== 'object' || pr === null || typeof pr['ulid'] !== 'string' || !isInt(pr['minTime']) || !isInt(pr['maxTime'])) bad(`compaction.parents[${i}] malformed`);
      return { ulid: pr['ulid'] as string, minTime: pr['minTime'] as number, maxTime: pr['maxTime'] as number };
    });
  }
  if (cr['deletable'] === true) compaction.deletable = true;
  if (cr['failed'] === true) compaction.failed = true;
  if (Array.isArray(cr['hints'])) compaction.hints = cr['hints'] as string[];
  const meta: BlockMeta = { ulid: o['ulid'] as string, minTime: o['minTime'] as number, maxTime: o['maxTime'] as number, stats, compaction, version: META_VERSION };
  const t = o['thanos'];
  if (t !== undefined && t !== null) {
    if (typeof t !== 'object') bad('thanos must be an object');
    const tr = t as Record<string, unknown>;
    const tv = tr['version'];
    if (tv !== undefined && tv !== 0 && tv !== 1) bad(`unexpected thanos section version ${JSON.stringify(tv)}, want 1`);
    const labels = tr['labels'] ?? {};
    if (typeof labels !== 'object' || Array.isArray(labels) || !Object.values(labels as object).every((v) => typeof v === 'string')) bad('thanos.labels must map strings to strings');
    const ds = tr['downsample'] as Record<string, unknown> | undefined;
    const resolution = ds === undefined || ds === null ? 0 : ds['resolution'];
    if (!isInt(resolution) || resolution < 0) bad('thanos.downsample.resolution must be a non-negative integer');
    const th: ThanosMeta = {
      labels: { ...(labels as Record<string, string>) },
      downsample: { resolution: resolution as number },
      source: typeof tr['source'] === 'string' ? tr['source'] : '',
      index_stats: {},
    };
    if (isInt(tv) && tv !== 0) th.version = tv;
    if (Array.isArray(tr['segment_files'])) th.segment_files = tr['segment_files'] as string[];
    if (Array.isArray(tr['files'])) {
      th.files = (tr['files'] as unknown[]).map((f, i) => {
        const fr = f as Record<string, unknown>;
        if (typeof fr !== 'object' || fr === null || typeof fr['rel_path'] !== 'string') bad(`thanos.files[${i}] has no rel_path`);
        const out: ThanosFile = { rel_path: fr['rel_path'] as string };
        if (fr['size_bytes'] !== undefined) {
          if (!isInt(fr['size_bytes'])) bad(`thanos.files[${i}].size_bytes must be an integer`);
          out.size_bytes = fr['size_bytes'] as number;
        }
        if (typeof fr['hash'] === 'object' && fr['hash'] !== null) out.hash = fr['hash'] as { hashFunc: string; value: string };
        return out;
      });
    }
    if (Array.isArray(tr['rewrites'])) th.rewrites = tr['rewrites'];
    const is = tr['index_stats'] as Record<string, unknown> | undefined;
    if (is !== undefined && is !== null) {
      if (isInt(is['series_max_size'])) th.index_stats.series_max_size = is['series_max_size'];
      if (isInt(is['chunk_max_size'])) th.index_stats.chunk_max_size = is['chunk_max_size'];
    }
    if (tr['extensions'] !== undefined && tr['extensions'] !== null) th.extensions = tr['extensions'];
    if (typeof tr['upload_time'] === 'string') th.upload_time = tr['upload_time'];
    meta.thanos = th;
  }
  return meta;
}

/**
 * formatBlockMeta renders meta.json like Go's json.MarshalIndent(meta, "", "\t"): keys in Go struct
 * order, zero stats and empty optional fields omitted, map keys sorted, no trailing newline.
 */
export function formatBlockMeta(meta: BlockMeta): string {
  const stats: Record<string, number> = {};
  for (const k of STAT_KEYS) {
    const v = meta.stats[k];
    if (v !== undefined && v !== 0) stats[k] = v;
  }
  const c = meta.compaction;
  const compaction: Record<string, unknown> = { level: c.level };
  if (c.sources !== undefined && c.sources.length > 0) compaction['sources'] = c.sources;
  if (c.parents !== undefined && c.parents.length > 0) compaction['parents'] = c.parents.map((p) => ({ ulid: p.ulid, minTime: p.minTime, maxTime: p.maxTime }));
  if (c.deletable === true) compaction['deletable'] = true;
  if (c.failed === true) compaction['failed'] = true;
  if (c.hints !== undefined && c.hints.length > 0) compaction['hints'] = c.hints;
  const out: Record<string, unknown> = { ulid: meta.ulid, minTime: meta.minTime, maxTime: meta.maxTime, stats, compaction, version: META_VERSION };
  const t = meta.thanos;
  if (t !== undefined) {
    const th: Record<string, unknown> = {};
    if (t.version !== undefined && t.version !== 0) th['version'] = t.version;
    const labels: Record<string, string> = {};
    for (const k of Object.keys(t.labels).sort()) labels[k] = t.labels[k]!;
    th['labels'] = labels;
    th['downsample'] = { resolution: t.downsample.resolution };
    th['source'] = t.source;
    if (t.segment_files !== undefined && t.segment_files.length > 0) th['segment_files'] = t.segment_files;
    if (t.files !== undefined && t.files.length > 0) {
      th['files'] = t.files.map((f) => {
        const o: Record<string, unknown> = { rel_path: f.rel_path };
        if (f.size_bytes !== undefined && f.size_bytes !== 0) o['size_bytes'] = f.size_bytes;
        if (f.hash !== undefined) o['hash'] = f.hash;
        return o;
      });
    }
    if (t.rewrites !== undefined && t.rewrites.length > 0) th['rewrites'] = t.rewrites;
    const is: Record<string, number> = {};
    if (t.index_stats.series_max_size) is['series_max_size'] = t.index_stats.series_max_size;
    if (t.index_stats.chunk_max_size) is['chunk_max_size'] = t.index_stats.chunk_max_size;
    th['index_stats'] = is;
    if (t.extensions !== undefined) th['extensions'] = t.extensions;
    if (t.upload_time !== undefined) th['upload_time'] = t.upload_time;
    out['thanos'] = th;
  }
  return JSON.stringify(out, null, '\t');
}

/** readBlockMeta reads and validates `<blockDir>/meta.json`. */
export async function readBlockMeta(blockDir: string): Promise<BlockMeta> {
  const file = join(blockDir, META_FILENAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'TESSERA_META_NOT_FOUND' : 'TESSERA_META_IO';
    throw new BlockMetaError(file, `read ${file}: ${(err as Error).message}`, { cause: err, code });
  }
  return parseBlockMeta(text, file);
}

/**
 * writeBlockMeta writes `<blockDir>/meta.json` atomically (meta.json.tmp, fsync, rename) and
 * returns the number of bytes written.
 */
export async function writeBlockMeta(blockDir: string, meta: BlockMeta): Promise<number> {
  const file = join(blockDir, META_FILENAME);
  const data = Buffer.from(formatBlockMeta(meta), 'utf8');
  const tmp = file + '.tmp';
  await writeFile(tmp, data);
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  return data.length;
}
