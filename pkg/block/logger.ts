/**
 * Logger is the minimal structured logger the block helpers and components log through; fields
 * are key/value pairs. Structurally identical to the components' logfmt loggers.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** nopLogger discards everything. */
export const nopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
