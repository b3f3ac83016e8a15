import { TesseraError } from '../errors/index.js';
import { BitWriter } from './bstream.js';
import { Encoding, type Appender, type Chunk } from './chunk.js';
import { floatBits } from './float-bits.js';
import type { SampleIterator } from './sample-iterator.js';
import { xorWrite } from './varbit.js';
import { XorIterator } from './xor-iterator.js';
import { xorNumSamples } from './xor-num-samples.js';

/** XorChunkOptions configures an XOR chunk being written. */
export interface XorChunkOptions {
  /**
   * legacyPadByte emulates pre-3.0 Prometheus writers, which leave one extra 0x00 byte after a
   * byte-aligned whole-byte last field (chunks.md §2). Default false (Prometheus ≥ 3.0 output).
   */
  readonly legacyPadByte?: boolean;
}

/** MAX_XOR_SAMPLES is the hard limit of the BE16 sample counter. */
export const MAX_XOR_SAMPLES = 0xffff;

const { f64, u32, HI, LO } = floatBits;

/** wrapping is set while fromBytes constructs a chunk, which then needs no writer. */
let wrapping = false;

/**
 * XorChunk is a Gorilla-style float chunk (encoding 1), bit-exact with Prometheus (chunks.md §3).
 * A new XorChunk is empty and writable through appender(); XorChunk.fromBytes wraps stored bytes
 * without copying (appending to it first copies, recovering the bit position by decoding).
 */
export class XorChunk implements Chunk {
  #w: BitWriter | null;
  #data: Uint8Array | null;
  readonly #legacyPad: boolean;
  #appender: XorAppender | null = null;

  constructor(options: XorChunkOptions = {}) {
    this.#w = wrapping ? null : new BitWriter(2);
    this.#data = null;
    this.#legacyPad = options.legacyPadByte === true;
  }

  /** fromBytes wraps encoded chunk data (the part after the encoding byte). The bytes are not copied. */
  static fromBytes(data: Uint8Array, options: XorChunkOptions = {}): XorChunk {
    wrapping = true;
    let c: XorChunk;
    try {
      c = new XorChunk(options);
    } finally {
      wrapping = false;
    }
    c.#data = data;
    return c;
  }

  encoding(): Encoding {
    return Encoding.XOR;
  }

  /** bytes returns the encoded data; the view is valid until the next append. */
  bytes(): Uint8Array {
    if (this.#data !== null) return this.#data;
    const w = this.#w!;
    return w.buffer.subarray(0, w.byteLength(this.#legacyPad));
  }

  numSamples(): number {
    return xorNumSamples(this.#data ?? this.#w!.buffer);
  }

  iterator(reuse?: SampleIterator): XorIterator {
    const it = reuse instanceof XorIterator ? reuse : new XorIterator();
    it.reset(this.bytes());
    return it;
  }

  /**
   * appender returns the chunk's appender. For a chunk made by fromBytes, the data is decoded once
   * to rebuild the encoder state and copied into a writable buffer (chunks.md §3.4).
   */
  appender(): XorAppender {
    if (this.#appender !== null) return this.#appender;
    const app = new XorAppender();
    if (this.#data !== null) {
      const it = new XorIterator();
      it.reset(this.#data);
      let n = 0;
      while (it.next() !== 0) n++;
      const err = it.err();
      if (err !== null) throw new TesseraError('TESSERA_CHUNK_CORRUPT', `reopen XOR chunk for appending: ${err.message}`, { cause: err });
      this.#w = BitWriter.fromBytes(this.#data, it.bitPosition());
      this.#data = null;
      app.init(this.#w, n, it.state());
    } else {
      app.init(this.#w!, this.numSamples(), null);
    }
    this.#appender = app;
    return app;
  }
}

/** XorEncoderState is the state needed to continue encoding after the last sample. */
export interface XorEncoderState {
  t: number;
  tDelta: number;
  vh: number;
  vl: number;
  leading: number;
  trailing: number;
}

/** XorAppender appends float samples (increasing timestamps) to an XorChunk. */
export class XorAppender implements Appender {
  #w!: BitWriter;
  #num = 0;
  #t = 0;
  #tDelta = 0;
  /** Previous value's bit halves and the current leading/trailing window, in xorWrite's layout. */
  readonly #bits = new Uint32Array(2);
  readonly #lt = Uint8Array.of(0xff, 0);

  /** init binds the appender to a writer; used by XorChunk. */
  init(w: BitWriter, num: number, st: XorEncoderState | null): void {
    this.#w = w;
    this.#num = num;
    if (st !== null) {
      this.#t = st.t;
      this.#tDelta = st.tDelta;
      this.#bits[0] = st.vh;
      this.#bits[1] = st.vl;
      this.#lt[0] = st.leading;
      this.#lt[1] = st.trailing;
    }
  }

  /** append adds a sample; t must not be lower than the previous timestamp. */
  append(t: number, v: number): void {
    f64[0] = v;
    this.appendBits(t, u32[HI]!, u32[LO]!);
  }

  /** appendBits adds a sample whose value is given as its IEEE-754 bit pattern halves. */
  appendBits(t: number, vh: number, vl: number): void {
    const w = this.#w;
    const num = this.#num;
    if (num >= MAX_XOR_SAMPLES) throw new RangeError(`XOR chunk is full (${MAX_XOR_SAMPLES} samples)`);
    if (num === 0) {
      writeUvarintBits(w, t >= 0 ? t * 2 : -t * 2 - 1);
      w.writeBits64(vh, vl, 64);
    } else {
      if (t < this.#t) throw new RangeError(`XOR chunk append out of order: ${t} after ${this.#t}`);
      const tDelta = t - this.#t;
      if (num === 1) {
        writeUvarintBits(w, tDelta);
      } else {
        const dod = tDelta - this.#tDelta;
        if (dod === 0) {
          w.writeBit(0);
        } else if (dod >= -8191 && dod <= 8192) {
          w.writeBits(0b10, 2);
          w.writeBits(dod & 0x3fff, 14);
        } else if (dod >= -65535 && dod <= 65536) {
          w.writeBits(0b110, 3);
          w.writeBits(dod & 0x1ffff, 17);
        } else if (dod >= -524287 && dod <= 524288) {
          w.writeBits(0b1110, 4);
          w.writeBits(dod & 0xfffff, 20);
        } else {
          w.writeBits(0b1111, 4);
          const hi = Math.floor(dod / 0x100000000);
          w.writeBits64(hi >>> 0, (dod - hi * 0x100000000) >>> 0, 64);
        }
      }
      this.#tDelta = tDelta;
      xorWrite(w, this.#bits, this.#lt, 0, vh, vl);
    }
    this.#t = t;
    this.#bits[0] = vh;
    this.#bits[1] = vl;
    this.#num = num + 1;
    const buf = w.buffer;
    buf[0] = (num + 1) >>> 8;
    buf[1] = (num + 1) & 0xff;
  }
}

/** writeUvarintBits writes an unsigned LEB128 value byte by byte through the bit stream. */
function writeUvarintBits(w: BitWriter, v: number): void {
  while (v >= 0x80) {
    w.writeByte((v & 0x7f) | 0x80);
    v = v >= 0x100000000 ? Math.floor(v / 128) : v >>> 7;
  }
  w.writeByte(v);
}
