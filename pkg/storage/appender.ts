import type { FloatHistogram } from '../histogram/index.js';
import type { Labels } from '../labels/index.js';

/**
 * SeriesRef is an opaque handle an Appender returns for a series, to pass back on the next append of
 * the same series and skip the label lookup. 0 means "unknown": the appender looks the labels up.
 * A ref is valid for the lifetime of the Appendable that issued it (not only one Appender).
 */
export type SeriesRef = number;

/** Stable codes of the errors append() throws for one sample; the batch stays usable after them. */
export const AppendErrorCode = {
  /** the sample is older than the newest sample of its series (and out-of-order is not accepted). */
  OutOfOrder: 'TESSERA_APPEND_OUT_OF_ORDER',
  /** same timestamp as the newest sample but a different value. */
  DuplicateTimestamp: 'TESSERA_APPEND_DUPLICATE_TIMESTAMP',
  /** the sample is older than what the storage still accepts (e.g. before the head's minimum valid time). */
  OutOfBounds: 'TESSERA_APPEND_OUT_OF_BOUNDS',
  /** labels are empty, unsorted, or repeat a name. */
  InvalidLabels: 'TESSERA_APPEND_INVALID_LABELS',
} as const;

/**
 * Appender collects samples of one batch (a transaction) for a storage.
 *
 * Contract:
 * - append()/appendHistogram() are synchronous and only buffer; they throw a TesseraError with one of
 *   AppendErrorCode's codes for a sample the storage will not take, and the rest of the batch goes on.
 *   A sample with the same timestamp and value as the series' newest is accepted and ignored.
 * - Samples are invisible to readers until commit() resolves; after that they are durable (written to
 *   the write-ahead log when the storage has one) and visible to queriers opened afterwards.
 * - commit() or rollback() ends the appender; either is called exactly once. rollback() drops the batch.
 * - commit() rejects when the batch cannot be stored (a write-ahead-log failure, or an OutOfBounds
 *   TesseraError naming the samples when the storage already cut away the range one of them is in);
 *   then nothing of the batch is stored. A storage never drops a buffered sample silently.
 * - Stale markers are float samples whose value is the StaleNaN bit pattern; they are stored as given.
 * - Appenders of one Appendable may be used concurrently; commits are applied one at a time.
 */
export interface Appender {
  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef;
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** Appendable hands out appenders (Prometheus's storage.Appendable). */
export interface Appendable {
  appender(): Appender;
}
