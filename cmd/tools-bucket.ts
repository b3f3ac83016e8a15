import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UsageError, flagList, flagString, type Command, type FlagSpec, type RunContext } from './command.js';
import { TesseraError, isTesseraError } from '../pkg/errors/index.js';
import { newBucketFromConfig, readObjstoreFlags, type Bucket } from '../pkg/objstore/index.js';

// TODO(objstore): move uploadBlock / fetchBlockMetas into pkg/block once it exists, and use the
// meta.json codec of pkg/tsdb once pkg/tsdb/index.ts exports it; cmd/ should only wire.

/** BlockMeta is the subset of meta.json the bucket tools read; `raw` is the whole parsed document. */
export interface BlockMeta {
  readonly ulid: string;
  readonly minTime: number;
  readonly maxTime: number;
  readonly stats: { readonly numSeries?: number; readonly numSamples?: number; readonly numChunks?: number };
  readonly compaction: { readonly level: number; readonly failed?: boolean };
  readonly thanos?: { readonly labels: Record<string, string>; readonly downsample: { readonly resolution: number }; readonly source: string };
  readonly raw: Record<string, unknown>;
}

/** isUlid reports whether s is a canonical (upper-case) 26-character Crockford base32 ULID. */
export function isUlid(s: string): boolean {
  return /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(s);
}

/** parseMetaJson parses and checks the parts of meta.json the tools use; `where` names the file in errors. */
export function parseMetaJson(text: string, where: string): BlockMeta {
  const bad = (why: string): never => {
    throw new TesseraError('TESSERA_META_INVALID', `parse ${where}: ${why}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return bad((err as Error).message);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o['version'] !== 1) bad(`unexpected meta file version ${JSON.stringify(o['version'])}, want 1`);
  const ulid = o['ulid'];
  if (typeof ulid !== 'string' || !isUlid(ulid)) return bad(`ulid ${JSON.stringify(ulid)} is not a ULID`);
  const minTime = o['minTime'];
  const maxTime = o['maxTime'];
  if (!Number.isSafeInteger(minTime) || !Number.isSafeInteger(maxTime)) return bad('minTime and maxTime must be integers');
  const stats = (typeof o['stats'] === 'object' && o['stats'] !== null ? o['stats'] : {}) as Record<string, unknown>;
  const comp = (typeof o['compaction'] === 'object' && o['compaction'] !== null ? o['compaction'] : {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const meta: { -readonly [K in keyof BlockMeta]: BlockMeta[K] } = {
    ulid,
    minTime: minTime as number,
    maxTime: maxTime as number,
    stats: { ...(num(stats['numSeries']) !== undefined ? { numSeries: num(stats['numSeries'])! } : {}), ...(num(stats['numSamples']) !== undefined ? { numSamples: num(stats['numSamples'])! } : {}), ...(num(stats['numChunks']) !== undefined ? { numChunks: num(stats['numChunks'])! } : {}) },
    compaction: { level: num(comp['level']) ?? 0, ...(comp['failed'] === true ? { failed: true } : {}) },
    raw: o,
  };
  const t = o['thanos'];
  if (typeof t === 'object' && t !== null) {
    const tr = t as Record<string, unknown>;
    const labels = tr['labels'];
    if (labels !== undefined && labels !== null && (typeof labels !== 'object' || !Object.values(labels).every((v) => typeof v === 'string'))) bad('thanos.labels must map strings to strings');
    const ds = tr['downsample'] as Record<string, unknown> | undefined;
    meta.thanos = {
      labels: { ...((labels ?? {}) as Record<string, string>) },
      downsample: { resolution: num(ds?.['resolution']) ?? 0 },
      source: typeof tr['source'] === 'string' ? tr['source'] : '',
    };
  }
  return meta;
}

/** ThanosFile is one `thanos.files` entry. */
interface ThanosFile {
  rel_path: string;
  size_bytes?: number;
}

const objstoreFlags: Record<string, FlagSpec> = {
  'objstore.config-file': { type: 'string', help: 'Path to YAML file that contains object store configuration.' },
  'objstore.config': { type: 'string', help: 'Object store configuration in YAML (alternative to --objstore.config-file).' },
};

/** reportErrors turns domain errors (bad config, unreachable bucket, bad meta.json) into a message and exit code 1. */
function reportErrors(run: (ctx: RunContext) => Promise<number | void>): (ctx: RunContext) => Promise<number | void> {
  return async (ctx) => {
    try {
      return await run(ctx);
    } catch (err) {
      if (!isTesseraError(err)) throw err;
      ctx.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
  };
}

async function openBucket(ctx: RunContext): Promise<Bucket> {
  const yaml = await readObjstoreFlags(flagString(ctx, 'objstore.config-file'), flagString(ctx, 'objstore.config'));
  return newBucketFromConfig(yaml, { component: 'bucket' });
}

/** FetchedMetas are the blocks found in a bucket by {@link fetchBlockMetas}. */
export interface FetchedMetas {
  readonly metas: BlockMeta[];
  /** partial lists ULID prefixes without meta.json. */
  readonly partial: string[];
  /** corrupted lists ULIDs whose meta.json does not parse, with the reason. */
  readonly corrupted: { ulid: string; error: string }[];
}

/**
 * fetchBlockMetas lists the top level of the bucket and reads `<ULID>/meta.json` of every entry
 * named like a ULID (other entries, e.g. `debug/`, are ignored), sorted by ULID.
 */
export async function fetchBlockMetas(bkt: Bucket, concurrency = 16): Promise<FetchedMetas> {
  const ids: string[] = [];
  for await (const entry of bkt.iter('')) {
    if (!entry.endsWith('/')) continue;
    const id = entry.slice(0, -1);
    if (isUlid(id)) ids.push(id);
  }
  const metas: (BlockMeta | undefined)[] = new Array(ids.length);
  const partial: string[] = [];
  const corrupted: { ulid: string; error: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      const id = ids[i]!;
      let data: Uint8Array;
      try {
        data = await bkt.get(`${id}/meta.json`);
      } catch (err) {
        if (bkt.isObjNotFoundErr(err)) {
          partial.push(id);
          continue;
        }
        throw err;
      }
      try {
        metas[i] = parseMetaJson(new TextDecoder().decode(data), `${id}/meta.json`);
      } catch (err) {
        corrupted.push({ ulid: id, error: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, ids.length)) }, worker));
  return {
    metas: metas.filter((m): m is BlockMeta => m !== undefined).sort((a, b) => (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0)),
    partial: partial.sort(),
    corrupted,
  };
}

/** UploadBlockOptions tune {@link uploadBlock}. */
export interface UploadBlockOptions {
  /** labels become `thanos.labels` (external labels); must not be empty. */
  readonly labels: Readonly<Record<string, string>>;
  /** source is `thanos.source` (default `bucket.upload`). */
  readonly source?: string;
  /** now returns the upload time (default `new Date()`). */
  readonly now?: () => Date;
  /** concurrency of chunk uploads (default 4). */
  readonly concurrency?: number;
}

/** UploadResult says what uploadBlock did. */
export type UploadResult = 'uploaded' | 'exists' | 'empty';

/**
 * uploadBlock uploads one local TSDB block the way Thanos' shipper and `block.Upload` do: the
 * `thanos` section is set (labels, source, segment_files, files with sizes, downsample resolution
 * kept or 0), then every `chunks/*` file, then `index`, then meta.json last (with `upload_time`).
 * The local meta.json is not modified; `tombstones` and other files are not uploaded. A block whose
 * meta.json already exists in the bucket is skipped ('exists'), as is a block with no samples.
 */
export async function uploadBlock(bkt: Bucket, blockDir: string, opts: UploadBlockOptions): Promise<UploadResult> {
  if (Object.keys(opts.labels).length === 0) throw new UsageError('empty external labels are not allowed for Thanos blocks; pass --label name=value');
  const metaPath = join(blockDir, 'meta.json');
  const meta = parseMetaJson(await readFile(metaPath, 'utf8'), metaPath);
  const id = meta.ulid;
  if (basename(blockDir) !== id) throw new UsageError(`upload ${blockDir}: directory name does not match meta.json ulid ${id}`);
  if ((meta.stats.numSamples ?? 0) === 0) return 'empty';
  if (await bkt.exists(`${id}/meta.json`)) return 'exists';

  const chunkNames = (await readdir(join(blockDir, 'chunks'), { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  const files: ThanosFile[] = [];
  for (const c of chunkNames) files.push({ rel_path: `chunks/${c}`, size_bytes: (await stat(join(blockDir, 'chunks', c))).size });
  files.push({ rel_path: 'index', size_bytes: (await stat(join(blockDir, 'index'))).size });
  files.push({ rel_path: 'meta.json' });
  files.sort((a, b) => (a.rel_path < b.rel_path ? -1 : a.rel_path > b.rel_path ? 1 : 0));

  // The thanos section in Go struct order (blocks.md §2.2); existing optional fields are kept.
  const prev = (typeof meta.raw['thanos'] === 'object' && meta.raw['thanos'] !== null ? meta.raw['thanos'] : {}) as Record<string, unknown>;
  const labels: Record<string, string> = {};
  for (const k of Object.keys(opts.labels).sort()) labels[k] = opts.labels[k]!;
  const thanos: Record<string, unknown> = {};
  if (prev['version'] !== undefined) thanos['version'] = prev['version'];
  thanos['labels'] = labels;
  thanos['downsample'] = { resolution: meta.thanos?.downsample.resolution ?? 0 };
  thanos['source'] = opts.source ?? 'bucket.upload';
  if (chunkNames.length > 0) thanos['segment_files'] = chunkNames;
  thanos['files'] = files;
  if (prev['rewrites'] !== undefined) thanos['rewrites'] = prev['rewrites'];
  thanos['index_stats'] = typeof prev['index_stats'] === 'object' && prev['index_stats'] !== null ? prev['index_stats'] : {};
  if (prev['extensions'] !== undefined) thanos['extensions'] = prev['extensions'];

  const upload = async (rel: string) => {
    const stream = createReadStream(join(blockDir, ...rel.split('/')));
    try {
      await bkt.upload(`${id}/${rel}`, stream as AsyncIterable<Uint8Array>);
    } finally {
      stream.destroy();
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < chunkNames.length) await upload(`chunks/${chunkNames[next++]!}`);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(1, chunkNames.length)) }, worker));
  await upload('index');
  thanos['upload_time'] = (opts.now ?? (() => new Date()))().toISOString();
  const out = { ...meta.raw, thanos };
  await bkt.upload(`${id}/meta.json`, new TextEncoder().encode(JSON.stringify(out, null, '\t')), { contentType: 'application/json' });
  return 'uploaded';
}

/** parseLabelFlags parses `--label name=value` / `name="value"` flags (Thanos requires the quotes; we accept both). */
export function parseLabelFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UsageError(`unrecognized label ${JSON.stringify(f)}: want name=value`);
    const name = f.slice(0, eq);
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new UsageError(`unsupported label name in ${JSON.stringify(f)}`);
    let value = f.slice(eq + 1);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        throw new UsageError(`unquote label value in ${JSON.stringify(f)}`);
      }
    }
    out[name] = value;
  }
  return out;
}

/** blockDirsIn expands a path into block directories: itself if it holds meta.json, else its ULID-named sub-directories that do. */
async function blockDirsIn(path: string): Promise<string[]> {
  if (await stat(join(path, 'meta.json')).then(() => true, () => false)) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.filter((x) => x.isDirectory() && isUlid(x.name)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (await stat(join(path, e.name, 'meta.json')).then(() => true, () => false)) out.push(join(path, e.name));
  }
  return out;
}

/** goDuration formats milliseconds like Go's time.Duration.String (`2h0m0s`, `500ms`, `-30m0s`). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let a = Math.abs(ms);
  let s: string;
  if (a < 1000) {
    s = `${a}ms`;
  } else {
    const h = Math.floor(a / 3_600_000);
    a -= h * 3_600_000;
    const m = Math.floor(a / 60_000);
    a -= m * 60_000;
    const sec = (a / 1000).toFixed(3).replace(/\.?0+$/, '');
    s = h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
  }
  return neg ? `-${s}` : s;
}

function fmtTime(ms: number, layout: 'inspect' | 'ls'): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const date = layout === 'inspect' ? `${p(d.getUTCDate())}-${p(d.getUTCMonth() + 1)}-${d.getUTCFullYear()}` : `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
  return layout === 'inspect' ? `${date} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}` : `${date} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

function labelsString(meta: BlockMeta): string {
  const l = meta.thanos?.labels ?? {};
  return Object.keys(l)
    .sort()
    .map((k) => `${k}=${l[k]}`)
    .join(',');
}

const INSPECT_COLUMNS = ['ULID', 'FROM', 'UNTIL', 'RANGE', 'UNTIL-DOWN', '#SERIES', '#SAMPLES', '#CHUNKS', 'COMP-LEVEL', 'COMP-FAILED', 'LABELS', 'RESOLUTION', 'SOURCE'] as const;

function inspectRow(m: BlockMeta): string[] {
  const range = m.maxTime - m.minTime;
  const res = m.thanos?.downsample.resolution ?? 0;
  // Thanos compact.UntilNextDownsampling: raw blocks are downsampled at 40h, 5m blocks at 10d.
  const untilDown = res === 0 ? goDuration(40 * 3_600_000 - range) : res === 300_000 ? goDuration(10 * 86_400_000 - range) : '-';
  const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');
  return [
    m.ulid,
    fmtTime(m.minTime, 'inspect'),
    fmtTime(m.maxTime, 'inspect'),
    goDuration(range),
    untilDown,
    n(m.stats.numSeries),
    n(m.stats.numSamples),
    n(m.stats.numChunks),
    String(m.compaction.level),
    String(m.compaction.failed === true),
    labelsString(m),
    goDuration(res),
    m.thanos?.source ?? '',
  ];
}

/** renderTable renders rows like tablewriter with side borders and a `|` separator. */
function renderTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], center: boolean) =>
    '|' +
    cells
      .map((c, i) => {
        const w = widths[i]!;
        if (!center) return ` ${c.padEnd(w)} `;
        const left = Math.floor((w - c.length) / 2);
        return ` ${' '.repeat(left)}${c}${' '.repeat(w - c.length - left)} `;
      })
      .join('|') +
    '|\n';
  let out = line(header, true);
  out += '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|\n';
  for (const r of rows) out += line(r, false);
  return out;
}

function compareCells(a: string, b: string): number {
  const ta = /^(\d\d)-(\d\d)-(\d{4}) (\d\d:\d\d:\d\d)$/.exec(a);
  const tb = /^(\d\d)-(\d\d)-(\d{4}) (\d\d:\d\d:\d\d)$/.exec(b);
  if (ta && tb) {
    const ka = `${ta[3]}${ta[2]}${ta[1]}${ta[4]}`;
    const kb = `${tb[3]}${tb[2]}${tb[1]}${tb[4]}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }
  const na = /^[\d,]+$/.test(a) ? Number(a.replaceAll(',', '')) : NaN;
  const nb = /^[\d,]+$/.test(b) ? Number(b.replaceAll(',', '')) : NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function reportSkipped(ctx: RunContext, f: FetchedMetas): void {
  for (const p of f.partial) ctx.stderr.write(`skipped partial block ${p} (no meta.json)\n`);
  for (const c of f.corrupted) ctx.stderr.write(`skipped block ${c.ulid}: ${c.error}\n`);
}

const lsCommand: Command = {
  name: 'ls',
  help: 'List all blocks in the bucket.',
  flags: {
    ...objstoreFlags,
    output: { type: 'string', short: 'o', default: '', help: "Format of each block's line: '' (ULID only), 'wide' (time range, compaction, resolution, source, labels) or 'json'." },
  },
  run: reportErrors(async (ctx) => {
    const format = flagString(ctx, 'output');
    if (format !== '' && format !== 'wide' && format !== 'json') throw new UsageError(`unsupported --output ${JSON.stringify(format)} (use '', wide or json)`);
    const bkt = await openBucket(ctx);
    try {
      const fetched = await fetchBlockMetas(bkt);
      reportSkipped(ctx, fetched);
      for (const m of fetched.metas) {
        if (format === '') ctx.stdout.write(`${m.ulid}\n`);
        else if (format === 'json') ctx.stdout.write(`${JSON.stringify(m.raw, null, '\t')}\n`);
        else {
          ctx.stdout.write(
            `${m.ulid} -- ${fmtTime(m.minTime, 'ls')} - ${fmtTime(m.maxTime, 'ls')} Diff: ${goDuration(Math.floor(m.maxTime / 1000) * 1000 - Math.floor(m.minTime / 1000) * 1000)}, ` +
              `Compaction: ${m.compaction.level}, Downsample: ${m.thanos?.downsample.resolution ?? 0}, Source: ${m.thanos?.source ?? ''}, Labels: {${labelsString(m)}}\n`,
          );
        }
      }
    } finally {
      await bkt.close();
    }
  }),
};

const inspectCommand: Command = {
  name: 'inspect',
  help: 'Inspect all blocks in the bucket in a detailed, table-like way.',
  flags: {
    ...objstoreFlags,
    selector: { type: 'string', short: 'l', multiple: true, help: 'Select blocks whose external labels include name=value (repeatable; all must match).' },
    'sort-by': { type: 'string', multiple: true, help: `Sort by columns (repeatable): ${INSPECT_COLUMNS.join(', ')}. Default FROM, UNTIL.` },
  },
  run: reportErrors(async (ctx) => {
    const selector = parseLabelFlags(flagList(ctx, 'selector'));
    const sortBy = flagList(ctx, 'sort-by');
    const sortIdx = (sortBy.length > 0 ? sortBy : ['FROM', 'UNTIL']).map((c) => {
      const i = (INSPECT_COLUMNS as readonly string[]).indexOf(c);
      if (i < 0) throw new UsageError(`column ${c} not found (columns: ${INSPECT_COLUMNS.join(', ')})`);
      return i;
    });
    const bkt = await openBucket(ctx);
    try {
      const fetched = await fetchBlockMetas(bkt);
      reportSkipped(ctx, fetched);
      const rows = fetched.metas
        .filter((m) => Object.entries(selector).every(([k, v]) => m.thanos?.labels[k] === v))
        .map(inspectRow)
        .sort((a, b) => {
          for (const i of sortIdx) {
            const c = compareCells(a[i]!, b[i]!);
            if (c !== 0) return c;
          }
          return compareCells(a[0]!, b[0]!);
        });
      ctx.stdout.write(renderTable(INSPECT_COLUMNS, rows));
    } finally {
      await bkt.close();
    }
  }),
};

const uploadCommand: Command = {
  name: 'upload',
  help:
    'Upload TSDB blocks to the bucket with a Thanos meta.json section (source bucket.upload): chunks first, then index, then meta.json.\n' +
    'Each argument is a block directory or a directory holding blocks (e.g. a Prometheus data dir). Blocks already in the bucket are skipped.',
  args: '<block-dir>...',
  flags: {
    ...objstoreFlags,
    label: { type: 'string', multiple: true, help: 'External label name=value put into thanos.labels (repeatable; at least one required).' },
  },
  run: reportErrors(async (ctx) => {
    if (ctx.positionals.length === 0) throw new UsageError('at least one block directory is required');
    const labels = parseLabelFlags(flagList(ctx, 'label'));
    if (Object.keys(labels).length === 0) {
      throw new UsageError('no external labels configured; uniquely identifying external labels must be given with --label name=value');
    }
    const dirs: string[] = [];
    for (const p of ctx.positionals) {
      const found = await blockDirsIn(p);
      if (found.length === 0) throw new UsageError(`${p}: neither a block directory (no meta.json) nor a directory containing blocks`);
      dirs.push(...found);
    }
    const bkt = await openBucket(ctx);
    let uploaded = 0;
    try {
      for (const d of dirs) {
        const r = await uploadBlock(bkt, d, { labels });
        if (r === 'uploaded') uploaded++;
        ctx.stdout.write(`${basename(d)}: ${r === 'uploaded' ? 'uploaded' : r === 'exists' ? 'already in bucket, skipped' : 'no samples, skipped'}\n`);
      }
      ctx.stdout.write(`uploaded ${uploaded} of ${dirs.length} blocks\n`);
    } finally {
      await bkt.close();
    }
  }),
};

/** toolsBucketCommand groups the bucket tools: ls, inspect, upload. */
export const toolsBucketCommand: Command = {
  name: 'bucket',
  help: 'Bucket utility commands: list, inspect and upload blocks.',
  subcommands: [lsCommand, inspectCommand, uploadCommand],
};
