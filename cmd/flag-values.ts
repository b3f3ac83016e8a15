import { readFile } from 'node:fs/promises';
import { parseDuration } from '../pkg/api/index.js';
import { parseByteSize } from '../pkg/cache/index.js';
import { TesseraError } from '../pkg/errors/index.js';
import { parseDuration as parseModelDuration } from '../pkg/objstore/index.js';
import { parsePromDuration } from '../pkg/sidecar/index.js';
import { UsageError, flagList, flagString, type RunContext } from './command.js';

/** durationFlag parses a Prometheus-style duration flag (`30s`, `5m`, `1h30m`) into ms. */
export function durationFlag(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  try {
    return parseDuration(v);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

/**
 * modelDurationFlag parses a duration flag Thanos declares as model.Duration (`30m`, `1h30m`, `2d`,
 * `0`; Go-style fractions as `1.5h` too) into ms: the bucket components' and tools' durations.
 */
export function modelDurationFlag(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  const ms = parseModelDuration(v);
  if (ms === undefined) throw new UsageError(`--${name}: invalid duration "${v}"`);
  return ms;
}

/** intFlag parses an integer flag. */
export function intFlag(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name}: "${v}" is not an integer`);
  return n;
}

/**
 * bytesFlag parses a size flag as Thanos's units.Base2Bytes does: a number with an optional unit
 * B, KB/KiB, MB/MiB, GB/GiB, TB/TiB, all powers of 1024 (`512MB`, `2GiB`, `0`).
 */
export function bytesFlag(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  const n = parseByteSize(v);
  if (n === undefined) throw new UsageError(`--${name}: "${v}" is not a size (e.g. 512MB, 2GiB)`);
  return n;
}

/** listFlag splits repeatable flags that may also be comma separated. */
export function listFlag(ctx: RunContext, name: string): string[] {
  return flagList(ctx, name).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/** waitForShutdown resolves on SIGINT or SIGTERM. */
export function waitForShutdown(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}

/** splitHostPort checks a `host:port` flag value and splits it ('' host means 0.0.0.0). */
export function splitHostPort(addr: string, flag: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i < 0 || !Number.isInteger(port)) throw new UsageError(`--${flag}: "${addr}" is not host:port`);
  return { host: addr.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
}

/**
 * parseTimeFlag parses Thanos's time-or-duration flags (--min-time, --max-time): RFC3339, Unix
 * milliseconds, or a Prometheus duration relative to now (`-2w`, `-1d`, `6h`). '' means unset.
 */
export function parseTimeFlag(v: string, now: number, flag: string): number | undefined {
  if (v === '') return undefined;
  if (!/^-?\d+$/.test(v)) {
    const neg = v.startsWith('-');
    const d = parsePromDuration(neg ? v.slice(1) : v);
    if (d !== undefined) return neg ? now - d : now + d;
  }
  if (/^-?\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`--${flag}: "${v}" is neither RFC3339, Unix ms nor a duration`);
  return t;
}

/**
 * timeRangeFlags parses --min-time and --max-time (parseTimeFlag; undefined when unset) and checks
 * that the range is not empty.
 */
export function timeRangeFlags(ctx: RunContext, now: number): { minTime: number | undefined; maxTime: number | undefined } {
  const minTime = parseTimeFlag(flagString(ctx, 'min-time'), now, 'min-time');
  const maxTime = parseTimeFlag(flagString(ctx, 'max-time'), now, 'max-time');
  if (minTime !== undefined && maxTime !== undefined && minTime > maxTime) throw new UsageError('--min-time is after --max-time');
  return { minTime, maxTime };
}

/**
 * fileOrInlineFlag reads the pair `--<name>-file` (a path) / `--<name>` (the content itself): the
 * file's text, else the inline text, '' when neither is set; both set is a usage error. A file that
 * cannot be read is a TesseraError with `code` naming flag and path.
 */
export async function fileOrInlineFlag(ctx: RunContext, name: string, code: string): Promise<string> {
  const file = flagString(ctx, `${name}-file`);
  const inline = flagString(ctx, name);
  if (file !== '' && inline !== '') throw new UsageError(`both --${name}-file and --${name} are set; use one`);
  if (file === '') return inline;
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TesseraError(code, `read --${name}-file ${file}`, { cause: err });
  }
}
