export { OpenMetricsParser, OpenMetricsParseError, parseOpenMetrics, parseGoFloat } from './openmetrics-parser.js';
export type { OpenMetricsBatch, OpenMetricsParserOptions, MetricMetadata } from './openmetrics-parser.js';
export { planBackfill, BackfillError } from './backfill-plan.js';
export type { BackfillOptions, BackfillBlock, BackfillSeries } from './backfill-plan.js';
