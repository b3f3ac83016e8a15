/**
 * TesseraError is the base class of the project's domain errors. Every subclass carries a stable,
 * machine-readable `code` (callers branch on it, never on the message) and, when it wraps another
 * failure, the original error as `cause`.
 *
 * Messages say what was being attempted and where ("read index of block 01H… at offset 42"), in
 * sentence case, without "failed to".
 */
export class TesseraError extends Error {
  /** A stable identifier such as `TESSERA_CORRUPT_BLOCK`; part of the public contract. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** isTesseraError reports whether err is a TesseraError, optionally with the given code. */
export function isTesseraError(err: unknown, code?: string): err is TesseraError {
  return err instanceof TesseraError && (code === undefined || err.code === code);
}
