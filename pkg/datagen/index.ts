// Public surface of the datagen package: the deterministic, realistic test and demo data set
// (`tessera tools gen`), rendered as OpenMetrics text or written straight to TSDB blocks.
export { DataSet } from './data-set.js';
export type { DataSetOptions, MetricType, FloatSeries, NativeHistogramSeries, FamilyGroup } from './data-set.js';
export { openMetricsText, writeOpenMetrics, writeOpenMetricsFile } from './open-metrics-text.js';
export type { OpenMetricsStats } from './open-metrics-text.js';
export { writeDataSetBlocks } from './write-data-set-blocks.js';
export type { DataSetBlocksOptions } from './write-data-set-blocks.js';
export { rng } from './rng.js';
export { DataGenError, DATAGEN_BAD_OPTIONS, isDataGenError } from './datagen-error.js';
