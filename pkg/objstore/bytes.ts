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
