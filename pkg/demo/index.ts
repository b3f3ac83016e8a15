export { writeDemoBlocks } from './demo-data.js';
export type { DemoDataOptions } from './demo-data.js';
