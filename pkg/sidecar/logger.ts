/** LogLevel orders log severities (Thanos's --log.level values). */
export const LogLevel = { debug: 0, info: 1, warn: 2, error: 3 } as const;
export type LogLevel = keyof typeof LogLevel;

/** Logger is a minimal structured (logfmt) logger; fields are key/value pairs. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** nopLogger discards everything. */
export const nopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** newLogfmtLogger writes `ts=… level=… msg=… k=v` lines at or above `level` to `out`. */
export function newLogfmtLogger(out: NodeJS.WritableStream, level: LogLevel = 'info', base: Record<string, unknown> = {}): Logger {
  const min = LogLevel[level];
  const log = (lvl: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (LogLevel[lvl] < min) return;
    let line = `ts=${new Date().toISOString()} level=${lvl}`;
    for (const [k, v] of Object.entries({ ...base, msg, ...fields })) line += ` ${k}=${fmt(v)}`;
    out.write(line + '\n');
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

function fmt(v: unknown): string {
  let s: string;
  if (v instanceof Error) {
    s = v.message;
    let c = v.cause;
    while (c instanceof Error) {
      s += `: ${c.message}`;
      c = c.cause;
    }
  } else s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}
