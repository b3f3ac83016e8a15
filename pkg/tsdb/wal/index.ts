export { RecordType, encodeSeriesRecord, encodeSamplesRecord, encodeFloatHistogramRecord, decodeRecord } from './records.js';
export type { RecordVisitor } from './records.js';
