export { inCI, findBinary, requireBinary, freePort, waitFor, waitForHttp, startProcess } from './external.js';
export type { ManagedProcess } from './external.js';
export { startMinio } from './minio.js';
export type { MinioServer } from './minio.js';
export { writeTestBlock } from './test-blocks.js';
export type { TestSeries } from './test-blocks.js';
export { SHARED_DIR, GEN_OPENMETRICS, PROMQL_TESTS_DIR } from './shared-dir.js';
