export { inCI, findBinary, requireBinary, freePort, waitFor, waitForHttp, startProcess } from './external.js';
export type { ManagedProcess } from './external.js';
