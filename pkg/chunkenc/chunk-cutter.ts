import type { ChunkMeta } from './chunk.js';
import { computeChunkEndTime, rangeForTimestamp } from './chunk-end-time.js';
import { XorChunk, type XorAppender } from './xor-chunk.js';

/** ChunkCutterOptions selects the head-chunk cutting rules to imitate (chunks.md §3.6). */
export interface ChunkCutterOptions {
  /**
   * chunkRange is the window width in ms that chunks never span (default 2h, a Prometheus server's
   * head). `promtool tsdb create-blocks-from` uses 2 × block duration, i.e. 4h.
   */
  readonly chunkRange?: number;
  /** samplesPerChunk is the target samples per chunk (default 120). */
  readonly samplesPerChunk?: number;
  /**
   * maxBytes is the XOR chunk byte cap (default 1024, since Prometheus 2.47); a chunk larger than
   * maxBytes − 19 is cut before the next sample. null disables it (Prometheus < 2.47).
   */
  readonly maxBytes?: number | null;
  /** legacyPadByte emulates the pre-3.0 extra trailing 0x00 byte (see XorChunkOptions). */
  readonly legacyPadByte?: boolean;
  /** legacyEndTime uses the pre-2.47 integer-division end-time estimate instead of float64. */
  readonly legacyEndTime?: boolean;
}

const TWO_HOURS = 2 * 3600 * 1000;

/**
 * ChunkCutter turns one series' float samples into XOR chunks the way a Prometheus head does
 * (appendPreprocessor): window boundaries at multiples of chunkRange, an end-time estimate at a
 * quarter of samplesPerChunk, a cut at 2 × samplesPerChunk, and the byte cap. Completed chunks are
 * taken with drain(); finish() also returns the open one and resets the cutter.
 */
export class ChunkCutter {
  readonly #range: number;
  readonly #spc: number;
  readonly #capBytes: number;
  readonly #legacyPad: boolean;
  readonly #legacyEnd: boolean;
  #done: ChunkMeta[] = [];
  #cur: ChunkMeta | null = null;
  #app: XorAppender | null = null;
  #n = 0;
  #nextAt = 0;

  constructor(options: ChunkCutterOptions = {}) {
    this.#range = options.chunkRange ?? TWO_HOURS;
    this.#spc = options.samplesPerChunk ?? 120;
    const cap = options.maxBytes === undefined ? 1024 : options.maxBytes;
    this.#capBytes = cap === null ? Infinity : cap - 19;
    this.#legacyPad = options.legacyPadByte === true;
    this.#legacyEnd = options.legacyEndTime === true;
  }

  /**
   * append adds a sample. It returns false, dropping the sample, when t is not after the last
   * sample's timestamp (Prometheus rejects those as out of order or duplicates).
   */
  append(t: number, v: number): boolean {
    let cur = this.#cur;
    if (cur !== null && t <= cur.maxTime) return false;
    if (cur === null || (this.#n > 0 && cur.chunk.bytes().length > this.#capBytes)) {
      cur = this.#cut(t);
    }
    const n = this.#n;
    if (n === this.#spc >> 2) {
      this.#nextAt = this.#endTime(cur.minTime, cur.maxTime, this.#nextAt);
    }
    if (t >= this.#nextAt || n >= this.#spc * 2) {
      if (n > 0) cur = this.#cut(t);
    }
    this.#app!.append(t, v);
    if (this.#n === 0) cur.minTime = t;
    cur.maxTime = t;
    this.#n++;
    return true;
  }

  #cut(t: number): ChunkMeta {
    if (this.#cur !== null && this.#n > 0) this.#done.push(this.#cur);
    const chunk = new XorChunk({ legacyPadByte: this.#legacyPad });
    const m: ChunkMeta = { ref: 0, minTime: t, maxTime: t, chunk };
    this.#cur = m;
    this.#app = chunk.appender();
    this.#n = 0;
    this.#nextAt = rangeForTimestamp(t, this.#range);
    return m;
  }

  #endTime(start: number, cur: number, maxT: number): number {
    if (this.#legacyEnd) {
      const n = Math.trunc((maxT - start) / ((cur - start + 1) * 4));
      if (n <= 1) return maxT;
      return start + Math.trunc((maxT - start) / n);
    }
    return computeChunkEndTime(start, cur, maxT, 4);
  }

  /** drain returns the chunks completed so far (not the open one) and forgets them. */
  drain(): ChunkMeta[] {
    const d = this.#done;
    this.#done = [];
    return d;
  }

  /** finish returns all remaining chunks including the open one, and resets the cutter. */
  finish(): ChunkMeta[] {
    const d = this.#done;
    if (this.#cur !== null && this.#n > 0) d.push(this.#cur);
    this.#done = [];
    this.#cur = null;
    this.#app = null;
    this.#n = 0;
    return d;
  }
}
