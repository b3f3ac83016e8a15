export { ApiError, ErrorType, httpStatus, invalidParam, toApiError } from './api-error.js';
export { formatFloat, formatPlainFloat, formatTimestamp, formatScalarTimestamp } from './float-format.js';
export { createJsonErrorHandler } from './error-handler.js';
export { Form, readForm } from './form.js';
export { createHealthRouter } from './health.js';
export { notFound } from './not-found.js';
export type { HealthRouterOptions } from './health.js';
export { histogramJson } from './histogram-json.js';
export { createHttpServer, maxHeaderBytes } from './http-server.js';
export { closeHttp } from './close-http.js';
export { BasicAuth } from './basic-auth.js';
export { WEB_CONFIG_ERROR, loadWebConfig, parseWebConfig } from './web-config.js';
export type { ClientAuthType, WebConfig, WebTls } from './web-config.js';
export { jsonString } from './json-string.js';
export { int64Json } from './int64-json.js';
export { MIN_TIME, MAX_TIME, parseTime, parseDuration, parseLimit, parseBool } from './params.js';
export type {
  QueryOptions,
  QueryEngine,
  QueryResult,
  QueryValue,
  VectorElement,
  MatrixSeries,
  SeriesSource,
  SeriesSourceOptions,
  SeriesResult,
  LabelsResult,
  MetadataSource,
  MetricMetadata,
} from './query-engine.js';
export { arrayJsonPieces, jsonPieceSize, labelsJson, resultJson, resultJsonPieces } from './result-json.js';
export { sendJson } from './send-json.js';
export { createApiRouter } from './router.js';
export type { ApiRouterOptions } from './router.js';
export { answerStatus, processStatusInfo, setProcessStatus, statusMiddleware } from './status-info.js';
export type { BuildInfo, StatusInfo } from './status-info.js';
export { translateAst } from './translate-ast.js';
export { prettyFormat } from './pretty-format.js';
export { ALL_RULES, alertJson, alertsJson, goTimeJson, parseRulesQuery, ruleGroupJson, ruleGroupNextToken, ruleJson, ruleMatches, rulesJson, selectRuleGroups } from './rules-json.js';
export type { RulesJsonOptions, RulesQuery, SelectedRules } from './rules-json.js';
export { answerAlerts, answerRules, createRulesApiRouter } from './rules-router.js';
export type { RulesAnswer, RulesApiRouterOptions, RulesSource } from './rules-router.js';
export { queryUiHtml, webUiHtml, serveWebUi, bundleWebUi, webUiAssets } from './web-ui.js';
export type { WebUiAssets, WebUiKind, WebUiShellOptions } from './web-ui.js';
export { BlocksInfo, createBlocksRouter } from './blocks-api.js';
export type { BlockMarkJson, BlockMarksJson, BlocksRouterOptions, MarkAction } from './blocks-api.js';
export { BucketBlocksView, marksJson } from './bucket-blocks-view.js';
export type { BucketBlocksViewOptions } from './bucket-blocks-view.js';
export { createBucketWebApp } from './bucket-web-app.js';
export type { BucketWebAppOptions } from './bucket-web-app.js';
export { blockMarkAction } from './block-mark-action.js';
export { parseGoTime, parsePrometheusRules } from './rules-parse.js';
