import { isLogFormat, isLogLevel, newLogger, type Logger } from '../pkg/block/index.js';
import { UsageError, flagString, type FlagSpec, type RunContext } from './command.js';

/** logFlags are every component's logging flags (Thanos's names and defaults). */
export const logFlags: Readonly<Record<string, FlagSpec>> = {
  'log.level': { type: 'string', default: 'info', help: 'Log filtering level: debug, info, warn, error.' },
  'log.format': { type: 'string', default: 'logfmt', help: 'Log format to use: logfmt or json.' },
};

/** loggerFromFlags builds the component's logger (on stderr) from --log.level and --log.format. */
export function loggerFromFlags(ctx: RunContext, component: string): Logger {
  const level = flagString(ctx, 'log.level') || 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log.level: unknown level "${level}" (debug, info, warn, error)`);
  const format = flagString(ctx, 'log.format') || 'logfmt';
  if (!isLogFormat(format)) throw new UsageError(`--log.format: unknown format "${format}" (logfmt, json)`);
  return newLogger(ctx.stderr, { level, format, base: { component } });
}
