// Public surface of the downsample package: Thanos-compatible downsampling of series chunks into
// aggregate chunks (raw → 5m → 1h, and our 1h → 1d), and of whole blocks.
export { Downsampler } from './downsampler.js';
export type { DownsamplerOptions } from './downsampler.js';
export { DownsampleError, DownsampleErrorCode } from './downsample-error.js';
export {
  RES_RAW,
  RES_5M,
  RES_1H,
  RES_1D,
  DOWNSAMPLE_RANGE_5M,
  DOWNSAMPLE_RANGE_1H,
  DOWNSAMPLE_RANGE_1D,
  RAW_INPUT_RESOLUTION,
  nextResolution,
  downsampleRange,
  resolutionName,
} from './resolution.js';
export { windowEnd, targetChunkCount } from './windows.js';
export { downsampleBlock } from './downsample-block.js';
export type { DownsampleBlockOptions } from './downsample-block.js';
