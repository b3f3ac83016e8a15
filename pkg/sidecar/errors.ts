import { TesseraError } from '../errors/index.js';

/** SidecarErrorCode lists the stable codes of the sidecar's errors. */
export const SidecarErrorCode = {
  /** Prometheus cannot be reached, is not ready (503), or the request timed out. Retryable. */
  PrometheusUnavailable: 'TESSERA_PROMETHEUS_UNAVAILABLE',
  /** Prometheus answered with an error status or an unexpected body. */
  PrometheusRequest: 'TESSERA_PROMETHEUS_REQUEST',
  /** The sidecar's configuration (external labels, block durations, flags) is not usable. */
  Config: 'TESSERA_SIDECAR_CONFIG',
} as const;
export type SidecarErrorCode = (typeof SidecarErrorCode)[keyof typeof SidecarErrorCode];

/** SidecarError is raised by the Prometheus client, the Prometheus store and the sidecar's configuration (the shipper's errors are pkg/block's). */
export class SidecarError extends TesseraError {
  constructor(code: SidecarErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
