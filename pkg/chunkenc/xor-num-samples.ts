/**
 * xorNumSamples returns the sample count of encoded XOR chunk data (the big-endian 16-bit header,
 * chunks.md §3), as XorChunk.fromBytes(data).numSamples() does, without wrapping the data.
 */
export function xorNumSamples(data: Uint8Array): number {
  if (data.length < 2) return 0;
  return (data[0]! << 8) | data[1]!;
}
