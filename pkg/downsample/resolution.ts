/** RES_RAW is the resolution of raw (not downsampled) blocks: `thanos.downsample.resolution` 0. */
export const RES_RAW = 0;
/** RES_5M is the 5-minute resolution in milliseconds (Thanos ResLevel1). */
export const RES_5M = 300_000;
/** RES_1H is the 1-hour resolution in milliseconds (Thanos ResLevel2). */
export const RES_1H = 3_600_000;
/**
 * RES_1D is our 1-day resolution in milliseconds (algorithms.md §6). Thanos does not know it: its
 * store gateway skips such blocks and its compactor fails on them, so write 1d blocks only to
 * buckets that no Thanos compactor works on.
 */
export const RES_1D = 86_400_000;

/** DOWNSAMPLE_RANGE_5M is the minimum range of a raw block to downsample it to 5m (40h, as Thanos). */
export const DOWNSAMPLE_RANGE_5M = 40 * 3_600_000;
/** DOWNSAMPLE_RANGE_1H is the minimum range of a 5m block to downsample it to 1h (10 days, as Thanos). */
export const DOWNSAMPLE_RANGE_1H = 10 * 86_400_000;
/**
 * DOWNSAMPLE_RANGE_1D is the minimum range of a 1h block to downsample it to 1d: 14 days, the largest
 * compaction level (algorithms.md §6).
 */
export const DOWNSAMPLE_RANGE_1D = 14 * 86_400_000;

/** RAW_INPUT_RESOLUTION is the scrape interval Thanos assumes for raw data when sizing chunks (1m). */
export const RAW_INPUT_RESOLUTION = 60_000;

/**
 * nextResolution returns the resolution a block of resolution res is downsampled to (raw → 5m →
 * 1h → 1d), or undefined for 1d and unknown resolutions.
 */
export function nextResolution(res: number): number | undefined {
  switch (res) {
    case RES_RAW:
      return RES_5M;
    case RES_5M:
      return RES_1H;
    case RES_1H:
      return RES_1D;
    default:
      return undefined;
  }
}

/**
 * downsampleRange returns the minimum block range (maxTime - minTime) at which a block is
 * downsampled to resolution target, or undefined for a resolution that is never a target.
 */
export function downsampleRange(target: number): number | undefined {
  switch (target) {
    case RES_5M:
      return DOWNSAMPLE_RANGE_5M;
    case RES_1H:
      return DOWNSAMPLE_RANGE_1H;
    case RES_1D:
      return DOWNSAMPLE_RANGE_1D;
    default:
      return undefined;
  }
}

/** resolutionName returns "raw", "5m", "1h", "1d" or the resolution in milliseconds followed by "ms". */
export function resolutionName(res: number): string {
  switch (res) {
    case RES_RAW:
      return 'raw';
    case RES_5M:
      return '5m';
    case RES_1H:
      return '1h';
    case RES_1D:
      return '1d';
    default:
      return `${res}ms`;
  }
}
