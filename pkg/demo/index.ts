export { writeDemoBlocks } from './demo-data.js';
export type { DemoDataOptions } from './demo-data.js';
export { demoHistoryEnd } from './demo-history-end.js';
export { DEMO_RULE_GROUPS, DEMO_RULES, writeDemoRules } from './demo-rules.js';
