import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError, flagBool, flagString, type Command, type RunContext } from './command.js';
import { goBase2Bytes, goFormatG, goUtcTime, tabwrite } from './tools-tsdb-format.js';
import { ValueType } from '../pkg/chunkenc/index.js';
import { isTesseraError } from '../pkg/errors/index.js';
import { MatchType, Matcher } from '../pkg/labels/index.js';
import { parseMetricSelector } from '../pkg/promql/index.js';
import { BlockWriter, openDB, parseOpenMetrics, planBackfill, type BlockMeta } from '../pkg/tsdb/index.js';
import { formatGoDuration } from '../pkg/cache/index.js';

const MIN_TIME = Number.MIN_SAFE_INTEGER;
const MAX_TIME = Number.MAX_SAFE_INTEGER;
const DEFAULT_MATCH = "{__name__=~'(?s:.*)'}";

/** reportErrors prints domain errors (corrupt blocks, bad input) as one line and exits 1. */
function reportErrors(run: (ctx: RunContext) => Promise<number | void>): (ctx: RunContext) => Promise<number | void> {
  return async (ctx) => {
    try {
      return await run(ctx);
    } catch (err) {
      if (!isTesseraError(err) && !(err instanceof SyntaxError) && (err as NodeJS.ErrnoException).code === undefined) throw err;
      ctx.stderr.write(`error: ${(err as Error).message}\n`);
      return 1;
    }
  };
}

/** parseTimeFlag parses an int64 millisecond flag, clamping to the safe-integer range. */
function parseTimeFlag(ctx: RunContext, name: string, def: number): number {
  const s = flagString(ctx, name);
  if (s === '') return def;
  if (!/^-?[0-9]+$/.test(s)) throw new UsageError(`--${name}: ${JSON.stringify(s)} is not an integer`);
  const v = Number(s);
  return Math.min(MAX_TIME, Math.max(MIN_TIME, v));
}

function dbDir(ctx: RunContext): string {
  if (ctx.positionals.length > 1) throw new UsageError('expected at most one <db-dir>');
  return ctx.positionals[0] ?? 'data/';
}

/** Writes text to a stream with back-pressure. */
async function write(out: NodeJS.WritableStream, s: string): Promise<void> {
  if (!out.write(s)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}

const dumpCommand: Command = {
  name: 'dump',
  help: 'Dump samples from a TSDB data dir, exactly as `promtool tsdb dump` prints them.',
  args: '[<db-dir>]',
  flags: {
    'min-time': { type: 'string', help: 'Minimum timestamp to dump (ms).' },
    'max-time': { type: 'string', help: 'Maximum timestamp to dump (ms).' },
    match: { type: 'string', default: DEFAULT_MATCH, help: 'Series selector.' },
  },
  run: reportErrors(async (ctx) => {
    const dir = dbDir(ctx);
    const mint = parseTimeFlag(ctx, 'min-time', MIN_TIME);
    const maxt = parseTimeFlag(ctx, 'max-time', MAX_TIME);
    const sel = flagString(ctx, 'match');
    // The default selects everything; promtool's ParseMetricSelector accepts it without the PromQL
    // "at least one non-empty matcher" check, so build it directly.
    const matchers = sel === '' || sel === DEFAULT_MATCH ? [new Matcher(MatchType.Regexp, '__name__', '(?s:.*)')] : parseMetricSelector(sel);
    const db = await openDB(dir);
    try {
      const q = await db.querier(mint, maxt);
      const ss = await q.select(true, undefined, matchers);
      let buf = '';
      let it;
      while (ss.next()) {
        const series = ss.at();
        const lbs = series.labels().toString();
        it = series.iterator(it);
        while (it.next() === ValueType.Float) {
          buf += `${lbs} ${goFormatG(it.atF())} ${it.atT()}\n`;
          if (buf.length > 1 << 16) {
            await write(ctx.stdout, buf);
            buf = '';
          }
        }
        const e = it.err();
        if (e !== null) throw e;
      }
      if (buf !== '') await write(ctx.stdout, buf);
      const e = ss.err();
      if (e !== null) throw e;
      await q.close();
    } finally {
      db.close();
    }
    return 0;
  }),
};

/** blockSize is what Prometheus's Block.Size() reports: chunks + index + tombstones + meta.json. */
async function blockSize(dir: string): Promise<number> {
  let n = 0;
  for (const f of ['index', 'tombstones', 'meta.json']) {
    try {
      n += (await stat(join(dir, f))).size;
    } catch {
      // absent files count as 0
    }
  }
  try {
    for (const c of await readdir(join(dir, 'chunks'))) n += (await stat(join(dir, 'chunks', c))).size;
  } catch {
    // no chunks dir
  }
  return n;
}

function blockRows(rows: { meta: BlockMeta; size: number }[], human: boolean, header: boolean): string[][] {
  const out: string[][] = header ? [['BLOCK ULID', 'MIN TIME', 'MAX TIME', 'DURATION', 'NUM SAMPLES', 'NUM CHUNKS', 'NUM SERIES', 'SIZE']] : [];
  for (const { meta, size } of rows) {
    out.push([
      meta.ulid,
      human ? goUtcTime(meta.minTime) : String(meta.minTime),
      human ? goUtcTime(meta.maxTime) : String(meta.maxTime),
      formatGoDuration(meta.maxTime - meta.minTime),
      String(meta.stats.numSamples ?? 0),
      String(meta.stats.numChunks ?? 0),
      String(meta.stats.numSeries ?? 0),
      human ? goBase2Bytes(size) : String(size),
    ]);
  }
  return out;
}

const listFlags = { 'human-readable': { type: 'boolean', short: 'r', help: 'Print human readable values.' } } as const;

async function runList(ctx: RunContext): Promise<number> {
  const db = await openDB(dbDir(ctx));
  try {
    const rows = [];
    for (const b of db.blocks) rows.push({ meta: b.meta, size: await blockSize(b.dir) });
    await write(ctx.stdout, tabwrite(blockRows(rows, flagBool(ctx, 'human-readable'), true)));
  } finally {
    db.close();
  }
  return 0;
}

const lsCommand: Command = {
  name: 'ls',
  help: 'List the blocks of a TSDB data dir, like `promtool tsdb list`.',
  args: '[<db-dir>]',
  flags: listFlags,
  run: reportErrors(runList),
};

const listCommand: Command = { ...lsCommand, name: 'list', help: 'Alias of ls.' };

const createFromOpenMetricsCommand: Command = {
  name: 'openmetrics',
  help: 'Create 2h blocks from an OpenMetrics text file, like `promtool tsdb create-blocks-from openmetrics`.',
  args: '<input-file> [<output-dir>]',
  flags: {
    'max-block-duration': { type: 'string', default: '2h', help: 'Maximum duration of created blocks (a multiple of 2h).' },
    quiet: { type: 'boolean', short: 'q', help: 'Do not print created blocks.' },
    'human-readable': { type: 'boolean', short: 'r', help: 'Print human readable values.' },
  },
  run: reportErrors(async (ctx) => {
    const [input, outDir = 'data/'] = ctx.positionals;
    if (input === undefined || ctx.positionals.length > 2) throw new UsageError('expected <input-file> [<output-dir>]');
    const dur = parseBlockDuration(flagString(ctx, 'max-block-duration') || '2h');
    const blocks = await planBackfill(parseOpenMetrics(createReadStream(input), { file: input }), { blockDuration: dur, file: input });
    const written: { meta: BlockMeta; size: number }[] = [];
    for (const b of blocks) {
      const w = await BlockWriter.create(outDir, { minTime: b.minTime, maxTime: b.maxTime });
      try {
        for (const s of b.series) await w.addChunkSeries(s.labels, s.chunks);
        const res = await w.flush();
        written.push({ meta: res.meta, size: await blockSize(res.dir) });
      } catch (err) {
        await w.abort();
        throw err;
      }
    }
    if (!flagBool(ctx, 'quiet') && written.length > 0) {
      await write(ctx.stdout, tabwrite(blockRows(written, flagBool(ctx, 'human-readable'), true)));
    }
    return 0;
  }),
};

/** parseBlockDuration parses a Prometheus duration that must be a positive multiple of 2h. */
function parseBlockDuration(s: string): number {
  const m = /^([0-9]+)(h|d|w)$/.exec(s);
  if (m === null) throw new UsageError(`--max-block-duration: ${JSON.stringify(s)} is not a duration in h, d or w`);
  const ms = Number(m[1]) * { h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'h' | 'd' | 'w'];
  // promtool's getCompatibleBlockDuration: the largest of 2h·3^i (i < 10) not above the request.
  let d = 7_200_000;
  for (let i = 1; i < 10 && d * 3 <= ms; i++) d *= 3;
  return d;
}

const createBlocksFromCommand: Command = {
  name: 'create-blocks-from',
  help: 'Create blocks from other data formats.',
  subcommands: [createFromOpenMetricsCommand],
};

/** toolsTsdbCommand groups the TSDB tools: dump, ls/list and create-blocks-from openmetrics. */
export const toolsTsdbCommand: Command = {
  name: 'tsdb',
  help: 'Inspect and create TSDB blocks (promtool-compatible output).',
  subcommands: [lsCommand, listCommand, dumpCommand, createBlocksFromCommand],
};
