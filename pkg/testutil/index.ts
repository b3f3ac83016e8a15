export { inCI, findBinary, requireBinary, freePort, waitFor, waitForHttp, startProcess } from './external.js';
export type { ManagedProcess } from './external.js';
export { startMinio } from './minio.js';
export type { MinioServer } from './minio.js';
export { writeTestBlock } from './test-blocks.js';
export type { TestSeries } from './test-blocks.js';
export { requirePromqlTests } from './shared-dir.js';
export { testCerts } from './test-certs.js';
export type { TestCerts } from './test-certs.js';
