import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UsageError, flagBool, flagList, flagString, type Command, type RunContext } from './command.js';
import { fileOrInlineFlag, modelDurationFlag, timeRangeFlags } from './flag-values.js';
import { bucketMaintenanceCommands } from './tools-bucket-maintenance.js';
import { toolsBucketWebCommand } from './tools-bucket-web.js';
import { globalFlags, loggerFromFlags, objstoreFlags } from './common-flags.js';
import { openBucket, reportErrors } from './tools-bucket-common.js';
import { BLOCK_ID_LABEL, BlockErrorCode, DELETION_MARK_FILENAME, Shipper, NO_DOWNSAMPLE_MARK_FILENAME, parseRelabelConfigs, readNoCompactMark, relabel, uploadBlock as uploadBlockDir } from '../pkg/block/index.js';
import { Labels } from '../pkg/labels/index.js';
import type { Bucket } from '../pkg/objstore/index.js';
import { formatBlockMeta, isUlid, parseBlockMeta, readBlockMeta, type BlockMeta } from '../pkg/tsdb/index.js';
import { formatGoDuration } from '../pkg/cache/index.js';

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
        metas[i] = parseBlockMeta(new TextDecoder().decode(data), `${id}/meta.json`);
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
 * uploadBlock uploads one local TSDB block with pkg/block's uploadBlock (chunks, index, meta.json
 * last, with the `thanos` section completed) unless its meta.json already exists in the bucket
 * ('exists') or it has no samples ('empty').
 */
export async function uploadBlock(bkt: Bucket, blockDir: string, opts: UploadBlockOptions): Promise<UploadResult> {
  if (Object.keys(opts.labels).length === 0) throw new UsageError('empty external labels are not allowed for Thanos blocks; pass --label name=value');
  const meta = await readBlockMeta(blockDir);
  if (basename(blockDir) !== meta.ulid) throw new UsageError(`upload ${blockDir}: directory name does not match meta.json ulid ${meta.ulid}`);
  if ((meta.stats.numSamples ?? 0) === 0) return 'empty';
  if (await bkt.exists(`${meta.ulid}/meta.json`)) return 'exists';
  const now = opts.now;
  await uploadBlockDir(bkt, blockDir, {
    labels: opts.labels,
    source: opts.source ?? 'bucket.upload',
    concurrency: opts.concurrency ?? 4,
    ...(now !== undefined ? { now: () => now().getTime() } : {}),
  });
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

const INSPECT_COLUMNS = ['ULID', 'FROM', 'UNTIL', 'RANGE', 'UNTIL-DOWN', '#SERIES', '#SAMPLES', '#CHUNKS', 'COMP-LEVEL', 'COMP-FAILED', 'LABELS', 'RESOLUTION', 'SOURCE', 'MARKS'] as const;

function inspectRow(m: BlockMeta, marks: string): string[] {
  const range = m.maxTime - m.minTime;
  const res = m.thanos?.downsample.resolution ?? 0;
  // Thanos compact.UntilNextDownsampling: raw blocks are downsampled at 40h, 5m blocks at 10d.
  const untilDown = res === 0 ? formatGoDuration(40 * 3_600_000 - range) : res === 300_000 ? formatGoDuration(10 * 86_400_000 - range) : '-';
  const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');
  return [
    m.ulid,
    fmtTime(m.minTime, 'inspect'),
    fmtTime(m.maxTime, 'inspect'),
    formatGoDuration(range),
    untilDown,
    n(m.stats.numSeries),
    n(m.stats.numSamples),
    n(m.stats.numChunks),
    String(m.compaction.level),
    String(m.compaction.failed === true),
    labelsString(m),
    formatGoDuration(res),
    m.thanos?.source ?? '',
    marks,
  ];
}

/**
 * blockMarks describes a block's markers for inspect: `deletion`, `no-compact(<reason>)` (a
 * quarantined block names why), `no-downsample`; empty when none.
 */
async function blockMarks(bkt: Bucket, id: string): Promise<string> {
  const out: string[] = [];
  if (await bkt.exists(`${id}/${DELETION_MARK_FILENAME}`)) out.push('deletion');
  try {
    const nc = await readNoCompactMark(bkt, id);
    if (nc !== undefined) out.push(`no-compact(${nc.reason})`);
  } catch {
    out.push('no-compact(unreadable)');
  }
  if (await bkt.exists(`${id}/${NO_DOWNSAMPLE_MARK_FILENAME}`)) out.push('no-downsample');
  return out.join(',');
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

/** renderDelimited renders a header and rows as Go's encoding/csv writes them, with sep between fields (csv: ',', tsv: '\t'). */
function renderDelimited(header: readonly string[], rows: readonly string[][], sep: string): string {
  const field = (c: string) => (c.includes(sep) || c.includes('"') || c.includes('\n') || c.includes('\r') || c.startsWith(' ') ? `"${c.replace(/"/g, '""')}"` : c);
  return [header, ...rows].map((r) => r.map(field).join(sep) + '\n').join('');
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
    ...globalFlags,
    output: { type: 'string', short: 'o', default: '', help: "Format of each block's line: '' (ULID only), 'wide' (time range, compaction, resolution, source, labels) or 'json'." },
    'selector.relabel-config-file': { type: 'string', help: 'Path to a YAML file with relabel configs applied to block external labels (and __block_id) selecting the blocks to list.' },
    'selector.relabel-config': { type: 'string', help: 'Relabel configs in YAML (alternative to --selector.relabel-config-file).' },
    'exclude-delete': { type: 'boolean', default: false, help: 'Exclude blocks marked for deletion.' },
    'min-time': { type: 'string', default: '', help: 'List only blocks with data at or after this time: RFC3339, Unix ms, or a duration relative to now (e.g. -1d).' },
    'max-time': { type: 'string', default: '', help: 'List only blocks with data at or before this time: RFC3339, Unix ms, or a duration relative to now.' },
    timeout: { type: 'string', default: '5m', help: 'Accepted for Thanos compatibility and ignored: metadata downloads are not time-limited.' },
  },
  run: reportErrors(async (ctx) => {
    const format = flagString(ctx, 'output');
    if (format !== '' && format !== 'wide' && format !== 'json') throw new UsageError(`unsupported --output ${JSON.stringify(format)} (use '', wide or json)`);
    modelDurationFlag(ctx, 'timeout');
    const { minTime, maxTime } = timeRangeFlags(ctx, Date.now());
    const rules = parseRelabelConfigs(await fileOrInlineFlag(ctx, 'selector.relabel-config', BlockErrorCode.RelabelConfig));
    const excludeDelete = flagBool(ctx, 'exclude-delete');
    const bkt = await openBucket(ctx);
    try {
      const fetched = await fetchBlockMetas(bkt);
      reportSkipped(ctx, fetched);
      for (const m of fetched.metas) {
        // As Thanos's time-partition and label-sharded meta filters: overlap with [min, max], and kept by the relabel rules.
        if ((minTime !== undefined && m.maxTime < minTime) || (maxTime !== undefined && m.minTime > maxTime)) continue;
        if (rules.length > 0 && relabel(Labels.fromRecord({ ...(m.thanos?.labels ?? {}), [BLOCK_ID_LABEL]: m.ulid }), rules) === undefined) continue;
        if (excludeDelete && (await bkt.exists(`${m.ulid}/${DELETION_MARK_FILENAME}`))) continue;
        if (format === '') ctx.stdout.write(`${m.ulid}\n`);
        else if (format === 'json') ctx.stdout.write(`${formatBlockMeta(m)}\n`);
        else {
          ctx.stdout.write(
            `${m.ulid} -- ${fmtTime(m.minTime, 'ls')} - ${fmtTime(m.maxTime, 'ls')} Diff: ${formatGoDuration(Math.floor(m.maxTime / 1000) * 1000 - Math.floor(m.minTime / 1000) * 1000)}, ` +
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
    ...globalFlags,
    selector: { type: 'string', short: 'l', multiple: true, help: 'Select blocks whose external labels include name=value (repeatable; all must match).' },
    'sort-by': { type: 'string', multiple: true, help: `Sort by columns (repeatable): ${INSPECT_COLUMNS.join(', ')}. Default FROM, UNTIL.` },
    output: { type: 'string', default: 'table', help: 'Output format: table, csv or tsv.' },
    timeout: { type: 'string', default: '5m', help: 'Accepted for Thanos compatibility and ignored: metadata downloads are not time-limited.' },
  },
  run: reportErrors(async (ctx) => {
    const output = flagString(ctx, 'output');
    if (output !== 'table' && output !== 'csv' && output !== 'tsv') throw new UsageError(`--output: "${output}" is not table, csv or tsv`);
    modelDurationFlag(ctx, 'timeout');
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
      const selected = fetched.metas.filter((m) => Object.entries(selector).every(([k, v]) => m.thanos?.labels[k] === v));
      const marks = await Promise.all(selected.map((m) => blockMarks(bkt, m.ulid)));
      const rows = selected
        .map((m, i) => inspectRow(m, marks[i]!))
        .sort((a, b) => {
          for (const i of sortIdx) {
            const c = compareCells(a[i]!, b[i]!);
            if (c !== 0) return c;
          }
          return compareCells(a[0]!, b[0]!);
        });
      ctx.stdout.write(output === 'table' ? renderTable(INSPECT_COLUMNS, rows) : renderDelimited(INSPECT_COLUMNS, rows, output === 'csv' ? ',' : '\t'));
    } finally {
      await bkt.close();
    }
  }),
};

/** uploadBlocksCommand is Thanos's `tools bucket upload-blocks`: one shipper pass over --path. */
const uploadBlocksCommand: Command = {
  name: 'upload-blocks',
  help:
    "Upload the blocks of --path as Thanos's upload-blocks does: one shipper pass (level-1 blocks unless --shipper.upload-compacted; " +
    'source bucket.upload), recording the uploaded blocks in <path>/thanos.shipper.json so that a second run uploads only new ones.',
  flags: {
    ...objstoreFlags,
    ...globalFlags,
    path: { type: 'string', default: './data', help: 'Path to the directory containing the blocks to upload.' },
    label: { type: 'string', multiple: true, help: 'External label name=value put into thanos.labels (repeatable; at least one required).' },
    'shipper.upload-compacted': { type: 'boolean', default: false, help: 'Also upload compacted blocks (level > 1).' },
    'shipper.upload-concurrency': { type: 'string', default: '5', help: 'Number of files of one block uploaded at the same time.' },
  },
  run: reportErrors(async (ctx) => {
    const labels = parseLabelFlags(flagList(ctx, 'label'));
    if (Object.keys(labels).length === 0) {
      throw new UsageError('no external labels configured; uniquely identifying external labels must be given with --label name=value');
    }
    const fileConcurrency = Number(flagString(ctx, 'shipper.upload-concurrency'));
    if (!Number.isInteger(fileConcurrency) || fileConcurrency < 0) throw new UsageError('--shipper.upload-concurrency: must be a non-negative integer');
    const path = flagString(ctx, 'path');
    if (!(await stat(path).then((st) => st.isDirectory(), () => false))) {
      ctx.stderr.write(`${ctx.command ?? 'tessera'}: unable to access path '${path}' (not a directory)\n`);
      return 1;
    }
    const ext = Labels.fromRecord(labels);
    const bkt = await openBucket(ctx);
    try {
      const shipper = new Shipper({ bucket: bkt, dir: path, externalLabels: () => ext, source: 'bucket.upload', uploadCompacted: flagBool(ctx, 'shipper.upload-compacted'), fileConcurrency, concurrency: 1, logger: loggerFromFlags(ctx, 'bucket') });
      const res = await shipper.sync();
      ctx.stderr.write(`synced blocks: uploaded ${res.uploaded}, failed ${res.failed}\n`);
      return res.failed > 0 ? 1 : 0;
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
    ...globalFlags,
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
  help: 'Bucket utility commands: list, inspect, upload, web UI, mark, verify (and repair), downsample, apply retention and clean up blocks.',
  subcommands: [lsCommand, inspectCommand, uploadCommand, uploadBlocksCommand, toolsBucketWebCommand, ...bucketMaintenanceCommands],
};
