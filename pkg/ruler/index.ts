// Public API of pkg/ruler: the Thanos ruler component (rule evaluation over the global view,
// results to the ruler's storage, alerts to Alertmanager).
export { RulerError, RulerErrorCode } from './errors.js';
export { chunkForStateLookup } from './for-state-lookup.js';
export { Ruler } from './ruler.js';
export type { PartialResponseStrategy, ReloadStatus, RulerOptions } from './ruler.js';
export { RulerMetrics } from './ruler-metrics.js';
