import { Encbuf, type Decbuf } from '../../encoding/index.js';
import type { Labels } from '../../labels/index.js';
import type { IndexChunkMeta } from './format.js';

/**
 * SeriesEntryEncoder encodes index series entries (blocks.md §5.4) for the index writers:
 * `uvarint len | labels as symbol refs | chunk metas (delta-encoded) | CRC32C`. It keeps the last
 * chunk ref written, to enforce refs that never decrease across series.
 */
export class SeriesEntryEncoder {
  readonly #body = new Encbuf(1 << 12);
  readonly #out = new Encbuf(1 << 12);
  readonly #symbolRef: (s: string) => number | undefined;
  readonly #fail: (msg: string) => never;
  #lastChunkRef = 0;

  /** symbolRef maps a string to its symbol ordinal; fail throws the writer's error. */
  constructor(symbolRef: (s: string) => number | undefined, fail: (msg: string) => never) {
    this.#symbolRef = symbolRef;
    this.#fail = fail;
  }

  /**
   * encode returns the whole entry (length, body, CRC) as a view valid until the next call.
   * onLabel, when given, receives each label's (name ref, value ref).
   */
  encode(lset: Labels, chunks: readonly IndexChunkMeta[], onLabel?: (nameRef: number, valueRef: number) => void): Uint8Array {
    const b = this.#body;
    b.reset();
    b.putUvarint(lset.size);
    for (let i = 0; i < lset.size; i++) {
      const name = lset.nameAt(i);
      const value = lset.valueAt(i);
      const nr = this.#symbolRef(name);
      const vr = this.#symbolRef(value);
      if (nr === undefined) this.#fail(`label name ${JSON.stringify(name)} of ${lset.toString()} is not a symbol`);
      if (vr === undefined) this.#fail(`label value ${JSON.stringify(value)} of ${lset.toString()} is not a symbol`);
      b.putUvarint(nr);
      b.putUvarint(vr);
      onLabel?.(nr, vr);
    }
    b.putUvarint(chunks.length);
    let prevMaxt = 0;
    let prevRef = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (c.maxTime < c.minTime) this.#fail(`chunk ${i} of ${lset.toString()} has maxTime ${c.maxTime} < minTime ${c.minTime}`);
      if (c.ref < this.#lastChunkRef) this.#fail(`chunk ref ${c.ref} of ${lset.toString()} is below previous ref ${this.#lastChunkRef}`);
      if (i === 0) {
        b.putVarint(c.minTime);
        b.putUvarint(c.maxTime - c.minTime);
        b.putUvarint(c.ref);
      } else {
        if (c.minTime <= prevMaxt) this.#fail(`chunk ${i} of ${lset.toString()} overlaps the previous chunk (minTime ${c.minTime} ≤ ${prevMaxt})`);
        b.putUvarint(c.minTime - prevMaxt);
        b.putUvarint(c.maxTime - c.minTime);
        b.putVarint(c.ref - prevRef);
      }
      prevMaxt = c.maxTime;
      prevRef = c.ref;
      this.#lastChunkRef = c.ref;
    }
    const e = this.#out;
    e.reset();
    e.putUvarint(b.len);
    const start = e.len;
    e.putBytes(b.get());
    e.putCRC32C(start);
    return e.get();
  }
}

/**
 * decodeSeriesBody decodes the body of a series entry (blocks.md §5.4, between the length field
 * and the CRC) from d: the labels, resolved with `symbol`, replace the content of kv as flat
 * name/value pairs; when chunks is given, its content is replaced by the chunk metas. Returns what
 * is wrong with the entry, or null (then check d.err() too); `symbol` may throw. The one series
 * decoder of the index reader and the bucket store.
 */
export function decodeSeriesBody(d: Decbuf, symbol: (ref: number) => string, kv: string[], chunks: IndexChunkMeta[] | undefined): string | null {
  const nl = d.uvarint();
  if (nl * 2 > d.remaining) return `${nl} labels cannot fit in ${d.remaining} bytes`;
  kv.length = nl * 2;
  for (let i = 0; i < nl; i++) {
    const nr = d.uvarint();
    const vr = d.uvarint();
    if (d.err() !== null) return null;
    kv[2 * i] = symbol(nr);
    kv[2 * i + 1] = symbol(vr);
  }
  if (chunks === undefined) return null;
  chunks.length = 0;
  const nc = d.uvarint();
  if (nc * 3 > d.remaining) return `${nc} chunks cannot fit in ${d.remaining} bytes`;
  let maxt = 0;
  let cref = 0;
  for (let i = 0; i < nc && d.err() === null; i++) {
    let mint: number;
    if (i === 0) {
      mint = d.varint();
      maxt = mint + d.uvarint();
      cref = d.uvarint();
    } else {
      mint = maxt + d.uvarint();
      maxt = mint + d.uvarint();
      cref += d.varint();
    }
    chunks.push({ ref: cref, minTime: mint, maxTime: maxt });
  }
  return null;
}
