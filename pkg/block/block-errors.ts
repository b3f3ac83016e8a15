import { TesseraError } from '../errors/index.js';

/** BlockErrorCode holds the stable codes of the Thanos block helpers' errors. */
export const BlockErrorCode = {
  /** A marker file exists but is not valid JSON of a known version. */
  MarkerCorrupt: 'TESSERA_BLOCK_MARKER_CORRUPT',
  /** A block's index in the bucket is unreadable or corrupt (index-header build failed). */
  IndexHeaderBuild: 'TESSERA_BLOCK_INDEX_HEADER_BUILD',
  /** A local index-header file is unreadable or corrupt (it is rebuilt). */
  IndexHeaderCorrupt: 'TESSERA_BLOCK_INDEX_HEADER_CORRUPT',
  /** A marker file could not be written to the bucket. */
  MarkerWrite: 'TESSERA_BLOCK_MARKER_WRITE',
  /** A local block cannot be uploaded (not a block directory, bad meta.json, no external labels) or an upload failed. */
  Upload: 'TESSERA_BLOCK_UPLOAD',
  /** A block could not be downloaded from the bucket. */
  Download: 'TESSERA_BLOCK_DOWNLOAD',
  /** A block could not be deleted from the bucket. */
  Delete: 'TESSERA_BLOCK_DELETE',
  /** The shipper could not list its directory or upload a block (retried later). */
  ShipperUpload: 'TESSERA_SHIPPER_UPLOAD',
  /** The shipper has no external labels to write into meta.json. */
  ShipperConfig: 'TESSERA_SHIPPER_CONFIG',
  /** The shipper state file could not be read or written. */
  ShipperState: 'TESSERA_SHIPPER_STATE',
  /** A relabel configuration is invalid. */
  RelabelConfig: 'TESSERA_BLOCK_RELABEL_CONFIG',
} as const;
export type BlockErrorCode = (typeof BlockErrorCode)[keyof typeof BlockErrorCode];

/** ThanosBlockError is an error of the pkg/block helpers; `block` names the ULID when known. */
export class ThanosBlockError extends TesseraError {
  readonly block: string | undefined;
  constructor(code: BlockErrorCode, message: string, options?: { cause?: unknown; block?: string }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.block = options?.block;
  }
}
