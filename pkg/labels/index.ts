export { Labels, LabelsBuilder, MetricName, compareStrings, formatLabelName } from './labels.js';
export type { Label } from './labels.js';
export { Matcher, MatchType, matchesAll } from './matcher.js';
export { goQuote } from './go-quote.js';
export { decodeEscapingInvalid } from './decode-escaping-invalid.js';
