import { parseDuration } from '../pkg/api/index.js';
import { Labels } from '../pkg/labels/index.js';
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

/** intFlag parses an integer flag. */
export function intFlag(ctx: RunContext, name: string): number {
  const v = flagString(ctx, name);
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name}: "${v}" is not an integer`);
  return n;
}

/** labelFlags parses repeatable `k=v` (or `k="v"`) flags into labels. */
export function labelFlags(ctx: RunContext, name: string): Labels {
  const rec: Record<string, string> = {};
  for (const kv of flagList(ctx, name)) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--${name}: "${kv}" is not of the form key=value`);
    rec[kv.slice(0, i)] = kv.slice(i + 1).replace(/^"(.*)"$/, '$1');
  }
  return Labels.fromRecord(rec);
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

/** logger writes logfmt-style lines to stderr, as Thanos components do. */
export function logger(component: string): (msg: string, fields?: Record<string, unknown>) => void {
  return (msg, fields = {}) => {
    const kv = Object.entries(fields)
      .map(([k, v]) => `${k}=${JSON.stringify(typeof v === 'string' ? v : String(v))}`)
      .join(' ');
    process.stderr.write(`ts=${new Date().toISOString()} level=info component=${component} msg=${JSON.stringify(msg)}${kv ? ' ' + kv : ''}\n`);
  };
}
