// The components' logger lives in pkg/block (one logger, logfmt or json); re-exported for the sidecar's users.
export { LogLevel, newLogfmtLogger, nopLogger } from '../block/index.js';
export type { Logger } from '../block/index.js';
