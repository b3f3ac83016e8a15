// Public API of pkg/ruler: the Thanos ruler component (rule evaluation over the global view,
// results to the ruler's storage, alerts to Alertmanager).
export { RulerError, RulerErrorCode } from './errors.js';
export { chunkForStateLookup } from './for-state-lookup.js';
export { Ruler } from './ruler.js';
export type { PartialResponseStrategy, ReloadStatus, RulerOptions } from './ruler.js';
export { RulerMetrics } from './ruler-metrics.js';
export { parseAlertmanagerUrl, parseAlertmanagersConfig } from './alertmanager-targets.js';
export type { AlertmanagerTarget, AlertmanagersConfig } from './alertmanager-targets.js';
export { rulerHttpApp } from './ruler-http.js';
export type { RulerHttpOptions } from './ruler-http.js';
export { registerTsdbMetrics } from './tsdb-metrics.js';
