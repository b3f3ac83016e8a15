// Public API of pkg/rules: Prometheus rule files, alert templates, rule evaluation and alert state.
export { findDuplicateRules, formatDuplicateRules } from './duplicate-rules.js';
export type { DuplicateRule } from './duplicate-rules.js';
export { parseRuleFile } from './rule-file.js';
export type { Position, RuleDef, RuleFileOptions, RuleFileParseResult, RuleGroupDef } from './rule-file.js';
export { formatModelDuration, parseModelDuration } from './model-duration.js';
export { ALERT_TEMPLATE_DEFS, ALERT_TEMPLATE_FUNCS, GO_BUILTINS, PROMETHEUS_TEMPLATE_FUNCS } from './template-funcs.js';
export { TemplateParseError, parseTemplate, unquoteGo } from './template-parse.js';
export type { Command as TemplateCommand, Operand, ParsedTemplate, Pipe, TemplateNode } from './template-parse.js';
export { GoInt, goFormatFloat, goQuoteString, goSprintf } from './go-format.js';
export { goDurationString, goTimeString, humanize, humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp } from './humanize.js';
export { SafeHTML, TemplateExecError, TemplateSample, executeTemplate, goSprint } from './template-exec.js';
export type { TemplateEnv, TemplateQueryFunc } from './template-exec.js';
export { TemplateExpander } from './template-expander.js';
export type { AlertTemplateData } from './template-expander.js';
