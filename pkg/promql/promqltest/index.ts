export { ScriptRunner } from './runner.js';
export type { EvalOutcome, FileOutcome } from './runner.js';
export { parseScript, ScriptError } from './script.js';
export type { Command, EvalCmd, LoadCmd, ClearCmd, ExpectAnno } from './script.js';
export { MemoryStorage } from './memory-storage.js';
export { parseSeriesDesc, parseHistogramDesc, SeriesDescError } from './series-desc.js';
export type { SequenceValue, SeriesDesc } from './series-desc.js';
export { histogramTestExpression } from './histogram-text.js';
