export { SidecarError, SidecarErrorCode } from './errors.js';
export { LogLevel, nopLogger, newLogfmtLogger } from './logger.js';
export type { Logger } from './logger.js';
export { parsePromDuration, formatPromDuration } from './prom-duration.js';
export { PrometheusClient, formatPromTime } from './prometheus-client.js';
export type { PrometheusClientOptions, BuildInfo, TimeRange } from './prometheus-client.js';
// The shipper lives in pkg/block (the ruler ships its blocks too); re-exported for the sidecar's users.
export { Shipper, isULID, readShipperState, writeShipperState } from '../block/index.js';
export type { ShipperOptions, SyncResult, ShipperState } from '../block/index.js';
export { PrometheusStore } from './prometheus-store.js';
export type { PrometheusStoreOptions } from './prometheus-store.js';
export { PrometheusWatcher } from './prometheus-watcher.js';
export type { PrometheusWatcherOptions, BlockFlags } from './prometheus-watcher.js';
export { prometheusRulesServer } from './prometheus-rules.js';
