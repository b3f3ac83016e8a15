import { TesseraError } from '../errors/index.js';

/** CompactorErrorCode lists the stable codes of compactor errors. */
export const CompactorErrorCode = {
  /** Another compactor holds the bucket lease. */
  LeaseHeld: 'TESSERA_COMPACT_LEASE_HELD',
  /** This compactor lost its lease (expired or taken over) while working. */
  LeaseLost: 'TESSERA_COMPACT_LEASE_LOST',
  /** A group's blocks cannot be compacted (corrupt, out-of-order chunks, unmergeable overlap). */
  GroupFault: 'TESSERA_COMPACT_GROUP_FAULT',
  /** The compactor options are inconsistent. */
  Config: 'TESSERA_COMPACT_CONFIG',
} as const;
export type CompactorErrorCode = (typeof CompactorErrorCode)[keyof typeof CompactorErrorCode];

/** CompactorError is an error of the compactor; `code` says which. */
export class CompactorError extends TesseraError {
  constructor(code: CompactorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
