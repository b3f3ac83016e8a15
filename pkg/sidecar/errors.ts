import { TesseraError } from '../errors/index.js';

/** SidecarErrorCode lists the stable codes of the sidecar's errors. */
export const SidecarErrorCode = {
  /** Prometheus cannot be reached, is not ready (503), or the request timed out. Retryable. */
  PrometheusUnavailable: 'TESSERA_PROMETHEUS_UNAVAILABLE',
  /** Prometheus answered with an error status or an unexpected body. */
  PrometheusRequest: 'TESSERA_PROMETHEUS_REQUEST',
  /** The sidecar's configuration (external labels, block durations, flags) is not usable. */
  Config: 'TESSERA_SIDECAR_CONFIG',
  /** A block could not be shipped to the bucket (retried later). */
  Upload: 'TESSERA_SHIPPER_UPLOAD',
  /** The shipper state file could not be read or written. */
  ShipperState: 'TESSERA_SHIPPER_STATE',
} as const;
export type SidecarErrorCode = (typeof SidecarErrorCode)[keyof typeof SidecarErrorCode];

/** SidecarError is raised by the Prometheus client, the Prometheus store and the shipper. */
export class SidecarError extends TesseraError {
  constructor(code: SidecarErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
