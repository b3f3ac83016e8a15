import { TesseraError } from '../errors/index.js';
import { aggrTypeName, type AggrType } from './aggr-type.js';

/** AggrSection is where one aggregate's sub-chunk sits inside aggregate chunk data. */
export interface AggrSection {
  /** encoding is the sub-chunk's TSDB encoding byte (1 = XOR, 3 = float histogram). */
  readonly encoding: number;
  /** data is the sub-chunk's encoded bytes (a view, not a copy). */
  readonly data: Uint8Array;
}

/**
 * findAggrSection walks the length-prefixed sub-chunks of Thanos aggregate chunk data (chunks.md §5:
 * per aggregate in the order count, sum, min, max, counter a uvarint length L, then, when L > 0, one
 * encoding byte and L data bytes) up to `aggr`. It returns null when that aggregate is absent (L = 0)
 * and throws a TesseraError (TESSERA_CHUNK_CORRUPT) naming the byte offset when a length is truncated
 * or a sub-chunk runs past the end. Unlike Thanos it does not demand a byte after a zero length, so
 * it also reads an absent last aggregate (which our writer never produces).
 */
export function findAggrSection(data: Uint8Array, aggr: AggrType): AggrSection | null {
  let p = 0;
  for (let i = 0; i <= aggr; i++) {
    const at = p;
    let len = 0;
    let mul = 1;
    for (;;) {
      if (p >= data.length) throw corrupt(`length of the ${aggrTypeName(i as AggrType)} sub-chunk at offset ${at} is truncated (chunk of ${data.length} bytes)`);
      if (p - at >= 8) throw corrupt(`length of the ${aggrTypeName(i as AggrType)} sub-chunk at offset ${at} is not a valid uvarint`);
      const b = data[p++]!;
      len += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    if (len === 0) {
      if (i === aggr) return null;
      continue;
    }
    if (p + 1 + len > data.length) {
      throw corrupt(`${aggrTypeName(i as AggrType)} sub-chunk of ${len} bytes at offset ${at} runs past the end of the ${data.length}-byte chunk`);
    }
    if (i === aggr) return { encoding: data[p]!, data: data.subarray(p + 1, p + 1 + len) };
    p += 1 + len;
  }
  return null;
}

function corrupt(msg: string): TesseraError {
  return new TesseraError('TESSERA_CHUNK_CORRUPT', `decode aggregate chunk: ${msg}`);
}
