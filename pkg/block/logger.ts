/**
 * Logger is the structured logger every component logs through; fields are key/value pairs.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** nopLogger discards everything. */
export const nopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** LogLevel orders log severities (Thanos's --log.level values). */
export const LogLevel = { debug: 0, info: 1, warn: 2, error: 3 } as const;
export type LogLevel = keyof typeof LogLevel;

/** LogFormat is Thanos's --log.format: go-kit logfmt lines or one JSON object per line. */
export type LogFormat = 'logfmt' | 'json';

/** isLogLevel tells whether s is a --log.level value. */
export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(LogLevel, s);
}

/** isLogFormat tells whether s is a --log.format value. */
export function isLogFormat(s: string): s is LogFormat {
  return s === 'logfmt' || s === 'json';
}

/** LoggerOptions configure newLogger. */
export interface LoggerOptions {
  /** level: lines below it are dropped (default info). */
  readonly level?: LogLevel;
  /** format (default logfmt). */
  readonly format?: LogFormat;
  /** base fields on every line, e.g. {component: 'store'}. */
  readonly base?: Record<string, unknown>;
  /** now gives the timestamp (tests). */
  readonly now?: () => Date;
}

/**
 * newLogger writes one line per call at or above the level to out: `ts=… level=… k=v … msg=…`
 * (logfmt, values quoted when they hold spaces, quotes or `=`) or `{"ts":…,"level":…,…}` (json).
 * Errors are written as their message followed by their causes' messages.
 */
export function newLogger(out: NodeJS.WritableStream, opts: LoggerOptions = {}): Logger {
  const min = LogLevel[opts.level ?? 'info'];
  const base = opts.base ?? {};
  const now = opts.now ?? (() => new Date());
  const json = opts.format === 'json';
  const log = (lvl: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (LogLevel[lvl] < min) return;
    const ts = now().toISOString();
    if (json) {
      const o: Record<string, unknown> = { ts, level: lvl };
      for (const [k, v] of Object.entries({ ...base, msg, ...fields })) o[k] = jsonValue(v);
      out.write(JSON.stringify(o) + '\n');
      return;
    }
    let line = `ts=${ts} level=${lvl}`;
    for (const [k, v] of Object.entries({ ...base, msg, ...fields })) line += ` ${k}=${logfmtValue(v)}`;
    out.write(line + '\n');
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

/** newLogfmtLogger is newLogger with the logfmt format. */
export function newLogfmtLogger(out: NodeJS.WritableStream, level: LogLevel = 'info', base: Record<string, unknown> = {}): Logger {
  return newLogger(out, { level, base });
}

/**
 * errorText is the message and the messages of its causes, joined with ": ". A cause whose message
 * the text already ends with (an error that wrapped it as `${what}: ${cause.message}`) adds nothing.
 */
function errorText(v: Error): string {
  let s = v.message;
  let c = v.cause;
  while (c instanceof Error) {
    if (!s.endsWith(c.message)) s += `: ${c.message}`;
    c = c.cause;
  }
  return s;
}

function jsonValue(v: unknown): unknown {
  if (v instanceof Error) return errorText(v);
  if (typeof v === 'bigint') return v.toString();
  return v;
}

function logfmtValue(v: unknown): string {
  const s = v instanceof Error ? errorText(v) : typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}
