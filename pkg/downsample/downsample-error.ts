import { TesseraError } from '../errors/index.js';

/** DownsampleErrorCode lists the stable codes of DownsampleError. */
export const DownsampleErrorCode = {
  /** The input chunks of a series overlap or are out of order. */
  Overlap: 'TESSERA_DOWNSAMPLE_OVERLAP',
  /** The input holds something this downsampler cannot aggregate (native histograms). */
  Unsupported: 'TESSERA_DOWNSAMPLE_UNSUPPORTED',
  /** An input chunk cannot be decoded. */
  Corrupt: 'TESSERA_DOWNSAMPLE_CORRUPT',
  /** The target resolution is not coarser than the input's. */
  Resolution: 'TESSERA_DOWNSAMPLE_RESOLUTION',
} as const;
export type DownsampleErrorCode = (typeof DownsampleErrorCode)[keyof typeof DownsampleErrorCode];

/** DownsampleError is a downsampling failure; its message names the series or block. */
export class DownsampleError extends TesseraError {
  constructor(code: DownsampleErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
