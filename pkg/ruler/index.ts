// Public API of pkg/ruler: the Thanos ruler component (rule evaluation over the global view,
// results to the ruler's storage, alerts to Alertmanager).
export { RulerError, RulerErrorCode } from './errors.js';
export { chunkForStateLookup } from './for-state-lookup.js';
export { Ruler } from './ruler.js';
export type { PartialResponseStrategy, ReloadStatus, RulerOptions } from './ruler.js';
export { RulerMetrics } from './ruler-metrics.js';
export { alertmanagerConfigFromUrl, parseAlertmanagerUrl, parseAlertmanagersConfig } from './alertmanager-targets.js';
export type { AlertmanagerConfig, AlertmanagerTarget } from './alertmanager-targets.js';
export { httpClient, parseHttpClientConfig } from './http-client-config.js';
export type { HttpClientConfig, HttpClientTls } from './http-client-config.js';
export type { FileSdConfig, HttpEndpointsConfig } from './http-endpoints-config.js';
export { parseQueryConfig } from './query-config.js';
export { DEFAULT_ALERT_QUERY_TEMPLATE, alertQueryTemplate } from './alert-query-template.js';
export type { QueryConfig } from './query-config.js';
export { rulerHttpApp } from './ruler-http.js';
export type { RulerHttpOptions } from './ruler-http.js';
export { registerTsdbMetrics } from './tsdb-metrics.js';
export { watchFiles } from './watch-files.js';
