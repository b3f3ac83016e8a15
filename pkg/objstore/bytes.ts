/** concatBytes joins chunks into one array (no copy when there is exactly one chunk and copy is false). */
export function concatBytes(chunks: readonly Uint8Array[], total: number, copy = true): Uint8Array {
  if (chunks.length === 1 && !copy) return chunks[0]!;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** readAllBytes drains an upload source into one array (a Uint8Array source is copied). */
export async function readAllBytes(data: Uint8Array | AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data.slice();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of data) {
    signal?.throwIfAborted();
    chunks.push(c.slice()); // the producer may reuse its buffer
    total += c.length;
  }
  return concatBytes(chunks, total, false);
}

/** sliceRange returns the view `[off, off+length)` of data clipped to its end; length -1 = to the end. */
export function sliceRange(data: Uint8Array, off: number, length: number): Uint8Array {
  if (off >= data.length) return new Uint8Array(0);
  const end = length === -1 ? data.length : Math.min(data.length, off + length);
  return data.subarray(off, end);
}

/**
 * SourceFailure wraps an error thrown by the caller's upload stream, so that a bucket can rethrow
 * it unchanged instead of reporting it as a store failure.
 */
export class SourceFailure {
  constructor(readonly error: unknown) {}
}

/** guardSource re-yields data, turning errors thrown by the stream itself into SourceFailure. */
export async function* guardSource(data: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const it = data[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (err) {
        done = true;
        throw new SourceFailure(err);
      }
      if (r.done === true) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await it.return?.();
  }
}
