import { DecodeError, Decbuf, decodeUtf8, verifyCRC32C } from '../../encoding/index.js';
import { compareStrings, Labels } from '../../labels/index.js';
import type { ByteSource } from './byte-source.js';
import { HeaderLen, MagicIndex, SymbolSampleRate, TocLen, type IndexChunkMeta, type Toc } from './format.js';
import { decodeSeriesBody } from './series-entry.js';
import { IndexCorruptError } from './index-corrupt-error.js';
import { BigEndianPostings, emptyPostings, ErrPostings, merge, type Postings } from './postings.js';

/** Values of one label name in the postings offset table: sorted values, and their entry index. */
interface NameEntry {
  readonly values: readonly string[];
  /** index in the global entry list of values[0]. */
  readonly first: number;
}

const seriesWindow = 32 * 1024;

/**
 * IndexReader reads a Prometheus TSDB index (format v2; v3 read alike) from a ByteSource without
 * loading it whole (blocks.md §5.8). Opening reads and checks the header, the TOC, the symbol table
 * (kept as bytes, with every 32nd entry offset sampled for lookups by ref) and the postings offset
 * table (kept in memory, as Thanos's index-header does). Postings lists and series entries are
 * read on demand, each checked against its CRC32C.
 *
 * Errors: open throws IndexCorruptError; postings(...) returns ErrPostings carrying one; series()
 * throws one. Every error names the file and the offset. All reads are synchronous, so calls
 * from interleaved async tasks are safe; the reader keeps one read-ahead window for series.
 */
export class IndexReader {
  readonly #src: ByteSource;
  /** version is the index format version byte (2 or 3). */
  readonly version: number;
  /** toc holds the section offsets read from the file. */
  readonly toc: Toc;
  #symData: Uint8Array = new Uint8Array(0);
  #symBase = 0;
  #symCount = 0;
  #symSamples: number[] = [];
  #symCache: (string | undefined)[] = [];
  #names: string[] = [];
  readonly #byName = new Map<string, NameEntry>();
  /** Absolute offsets of every postings list in table order, then postingsTable as a sentinel. */
  #entryOffsets: number[] = [];
  #allEntry = -1;
  #win: Uint8Array = new Uint8Array(0);
  #winOff = 0;

  readonly #symbolFn = (ref: number): string => this.symbol(ref);

  private constructor(src: ByteSource, version: number, toc: Toc) {
    this.#src = src;
    this.version = version;
    this.toc = toc;
  }

  /** name is the source's name (file path) used in errors. */
  get name(): string {
    return this.#src.name;
  }

  /** size is the index file size. */
  get size(): number {
    return this.#src.size;
  }

  #corrupt(offset: number, msg: string, cause?: unknown): IndexCorruptError {
    return new IndexCorruptError(this.#src.name, offset, msg, cause === undefined ? undefined : { cause });
  }

  #fromDecode(e: DecodeError, what: string): IndexCorruptError {
    return this.#corrupt(e.offset, `${what}: ${e.message}`, e);
  }

  /**
   * open reads the header, TOC, symbol table and postings offset table of src. The reader takes
   * ownership of src (close closes it), also when open throws.
   */
  static open(src: ByteSource): IndexReader {
    try {
      return IndexReader.#open(src);
    } catch (err) {
      src.close();
      if (err instanceof IndexCorruptError) throw err;
      if (err instanceof RangeError) throw new IndexCorruptError(src.name, 0, err.message, { cause: err });
      throw err;
    }
  }

  static #open(src: ByteSource): IndexReader {
    const size = src.size;
    if (size < HeaderLen + TocLen) {
      throw new IndexCorruptError(src.name, 0, `file of ${size} bytes is too small for an index at offset 0 (header and TOC need ${HeaderLen + TocLen})`);
    }
    const head = new Decbuf(src.read(0, HeaderLen));
    const magic = head.be32();
    if (magic !== MagicIndex) {
      throw new IndexCorruptError(src.name, 0, `invalid magic number ${magic.toString(16)} at offset 0 (want ${MagicIndex.toString(16)})`);
    }
    const version = head.byte();
    if (version !== 2 && version !== 3) {
      throw new IndexCorruptError(src.name, 4, `unsupported index format version ${version} at offset 4 (want 2 or 3)`);
    }
    const tocOff = size - TocLen;
    const tocBytes = src.read(tocOff, TocLen);
    const crcErr = verifyCRC32C(tocBytes, 0, TocLen - 4, 'TOC', tocOff);
    if (crcErr !== null) throw new IndexCorruptError(src.name, tocOff, crcErr.message, { cause: crcErr });
    const d = new Decbuf(tocBytes, tocOff);
    const toc: Toc = {
      symbols: d.be64(),
      series: d.be64(),
      labelIndices: d.be64(),
      labelIndicesTable: d.be64(),
      postings: d.be64(),
      postingsTable: d.be64(),
    };
    const de = d.err();
    if (de !== null) throw new IndexCorruptError(src.name, de.offset, `TOC: ${de.message}`, { cause: de });
    const fields: (keyof Toc)[] = ['symbols', 'series', 'labelIndices', 'labelIndicesTable', 'postings', 'postingsTable'];
    for (const [i, f] of fields.entries()) {
      const v = toc[f];
      if (v !== 0 && (v < HeaderLen || v > tocOff)) {
        throw new IndexCorruptError(src.name, tocOff + 8 * i, `TOC field ${f} = ${v} at offset ${tocOff + 8 * i} is outside the index body [${HeaderLen}, ${tocOff}]`);
      }
    }
    if (toc.symbols === 0) throw new IndexCorruptError(src.name, tocOff, `TOC at offset ${tocOff} has no symbol table`);
    if (toc.postingsTable === 0) throw new IndexCorruptError(src.name, tocOff + 40, `TOC at offset ${tocOff + 40} has no postings offset table`);
    const r = new IndexReader(src, version, toc);
    r.#readSymbols();
    r.#readPostingsTable();
    return r;
  }

  /** Reads a "BE32 len, body, CRC32 over body" section at off, checking bounds before allocating. */
  #readSection(off: number, what: string): { body: Uint8Array; base: number } {
    const limit = this.#src.size - TocLen;
    if (off + 4 > limit) throw this.#corrupt(off, `${what} at offset ${off}: length field beyond end of index body (${limit})`);
    const len = new Decbuf(this.#src.read(off, 4), off).be32();
    if (off + 4 + len + 4 > limit) {
      throw this.#corrupt(off, `${what} at offset ${off}: length ${len} runs beyond end of index body (${limit})`);
    }
    const bytes = this.#src.read(off + 4, len + 4);
    const e = verifyCRC32C(bytes, 0, len, what, off + 4);
    if (e !== null) throw this.#corrupt(e.offset, e.message, e);
    return { body: bytes.subarray(0, len), base: off + 4 };
  }

  #readSymbols(): void {
    const { body, base } = this.#readSection(this.toc.symbols, 'symbol table');
    const d = new Decbuf(body, base);
    const count = d.be32();
    if (d.err() === null && count > d.remaining) {
      throw this.#corrupt(base, `symbol table at offset ${base}: ${count} symbols cannot fit in ${d.remaining} bytes`);
    }
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      if (i % SymbolSampleRate === 0) samples.push(d.offset - 4);
      const n = d.uvarint();
      d.skip(n);
    }
    const err = d.err();
    if (err !== null) throw this.#fromDecode(err, 'symbol table');
    this.#symData = body.subarray(4);
    this.#symBase = base + 4;
    this.#symCount = count;
    this.#symSamples = samples;
    this.#symCache = new Array<string | undefined>(count);
  }

  #readPostingsTable(): void {
    const { body, base } = this.#readSection(this.toc.postingsTable, 'postings offset table');
    const d = new Decbuf(body, base);
    const count = d.be32();
    // Each entry takes at least 4 bytes (key count, two empty strings, offset).
    if (d.err() === null && count > d.remaining / 4) {
      throw this.#corrupt(base, `postings offset table at offset ${base}: ${count} entries cannot fit in ${d.remaining} bytes`);
    }
    const offsets: number[] = [];
    const names: string[] = [];
    let curName: string | undefined;
    let curValues: string[] = [];
    let curFirst = 0;
    let prevName = '';
    let prevValue = '';
    const flush = (): void => {
      if (curName !== undefined && curName !== '') {
        names.push(curName);
        this.#byName.set(curName, { values: curValues, first: curFirst });
      }
    };
    for (let i = 0; i < count; i++) {
      const entryOff = base + d.offset;
      const keys = d.uvarint();
      if (d.err() === null && keys !== 2) throw this.#corrupt(entryOff, `postings offset table entry ${i} at offset ${entryOff} has ${keys} keys, want 2`);
      const name = d.uvarintStr();
      const value = d.uvarintStr();
      const off = d.uvarint();
      if (d.err() !== null) break;
      if (i > 0) {
        const c = compareStrings(prevName, name);
        if (c > 0 || (c === 0 && compareStrings(prevValue, value) >= 0)) {
          throw this.#corrupt(entryOff, `postings offset table entry ${i} at offset ${entryOff} (${JSON.stringify(name)}=${JSON.stringify(value)}) is out of order`);
        }
      }
      if (off < HeaderLen || off + 8 > this.toc.postingsTable) {
        throw this.#corrupt(entryOff, `postings offset table entry ${i} at offset ${entryOff} points to ${off}, outside the postings section`);
      }
      if (name === '' && value === '') this.#allEntry = i;
      if (name !== curName) {
        flush();
        curName = name;
        curValues = [];
        curFirst = i;
      }
      curValues.push(value);
      offsets.push(off);
      prevName = name;
      prevValue = value;
    }
    const err = d.err();
    if (err !== null) throw this.#fromDecode(err, 'postings offset table');
    flush();
    offsets.push(this.toc.postingsTable);
    this.#entryOffsets = offsets;
    this.#names = names;
  }

  /** symbolCount is the number of symbols in the symbol table. */
  get symbolCount(): number {
    return this.#symCount;
  }

  /** symbol returns the symbol with the given ref (its position in the table). */
  symbol(ref: number): string {
    const cached = this.#symCache[ref];
    if (cached !== undefined) return cached;
    if (!(ref >= 0 && ref < this.#symCount)) {
      throw this.#corrupt(this.toc.symbols, `unknown symbol reference ${ref} (table at offset ${this.toc.symbols} has ${this.#symCount})`);
    }
    const data = this.#symData;
    let off = this.#symSamples[Math.floor(ref / SymbolSampleRate)]!;
    let i = ref - (ref % SymbolSampleRate);
    for (;;) {
      // Entries were validated at open: varints and lengths are in bounds.
      let n = 0;
      let mul = 1;
      let b: number;
      do {
        b = data[off++]!;
        n += (b & 0x7f) * mul;
        mul *= 128;
      } while (b >= 0x80);
      if (i === ref) {
        const s = decodeUtf8(data, off, off + n);
        this.#symCache[ref] = s;
        return s;
      }
      off += n;
      i++;
    }
  }

  /** symbols returns every symbol in table order. */
  *symbols(): IterableIterator<string> {
    for (let i = 0; i < this.#symCount; i++) yield this.symbol(i);
  }

  /** labelNames returns the label names in the postings offset table, sorted. */
  labelNames(): readonly string[] {
    return this.#names;
  }

  /** labelValues returns the values of name in the postings offset table, sorted (empty if unknown). */
  labelValues(name: string): readonly string[] {
    return this.#byName.get(name)?.values ?? [];
  }

  /**
   * postingsRange returns the byte range [start, end) of the postings list of (name, value) as a
   * Thanos store gateway computes it from adjacent table entries, or undefined if absent.
   */
  postingsRange(name: string, value: string): { start: number; end: number } | undefined {
    const k = this.#entryIndex(name, value);
    if (k < 0) return undefined;
    return { start: this.#entryOffsets[k]!, end: this.#entryOffsets[k + 1]! };
  }

  #entryIndex(name: string, value: string): number {
    if (name === '' && value === '') return this.#allEntry;
    const ne = this.#byName.get(name);
    if (ne === undefined) return -1;
    const i = searchSorted(ne.values, value);
    return i < ne.values.length && ne.values[i] === value ? ne.first + i : -1;
  }

  /** allPostings returns every series reference (the ("", "") list). */
  allPostings(): Postings {
    if (this.#allEntry < 0) return emptyPostings();
    return this.#postingsForEntries([this.#allEntry]);
  }

  /** postings returns the union of the postings lists of name=v for each given value. */
  postings(name: string, ...values: string[]): Postings {
    if (name === '' && values.length === 1 && values[0] === '') return this.allPostings();
    const ne = this.#byName.get(name);
    if (ne === undefined) return emptyPostings();
    const idx: number[] = [];
    for (const v of values) {
      const i = searchSorted(ne.values, v);
      if (i < ne.values.length && ne.values[i] === v) idx.push(ne.first + i);
    }
    if (idx.length > 1) {
      idx.sort((a, b) => a - b);
    }
    return this.#postingsForEntries(idx);
  }

  /**
   * postingsForLabelMatching returns the union of the lists of the values of name accepted by
   * match. When every accepted value starts with `prefix`, only that (contiguous, sorted) range of
   * values is tested.
   */
  postingsForLabelMatching(name: string, match: (value: string) => boolean, prefix = ''): Postings {
    const ne = this.#byName.get(name);
    if (ne === undefined) return emptyPostings();
    const idx: number[] = [];
    const vals = ne.values;
    for (let i = prefix === '' ? 0 : searchSorted(vals, prefix); i < vals.length; i++) {
      const v = vals[i]!;
      if (prefix !== '' && !v.startsWith(prefix)) break;
      if (match(v)) idx.push(ne.first + i);
    }
    return this.#postingsForEntries(idx);
  }

  /** postingsForAllLabelValues returns every series that has label name (any value). */
  postingsForAllLabelValues(name: string): Postings {
    return this.postingsForLabelMatching(name, () => true);
  }

  /**
   * Reads the lists of the given (sorted, possibly duplicated) entry indices. Runs of adjacent
   * entries are fetched with one read spanning them, as they are stored back to back.
   */
  #postingsForEntries(idx: readonly number[]): Postings {
    if (idx.length === 0) return emptyPostings();
    const offs = this.#entryOffsets;
    const lists: Postings[] = [];
    try {
      let i = 0;
      while (i < idx.length) {
        let j = i;
        while (j + 1 < idx.length && idx[j + 1]! - idx[j]! <= 1 && offs[idx[j + 1]!]! >= offs[idx[j]!]!) j++;
        const startOff = offs[idx[i]!]!;
        const endOff = offs[idx[j]! + 1]!;
        const run = endOff > startOff ? this.#src.read(startOff, endOff - startOff) : new Uint8Array(0);
        let prev = -1;
        for (let k = i; k <= j; k++) {
          const e = idx[k]!;
          if (e === prev) continue;
          prev = e;
          lists.push(this.#listAt(offs[e]!, run, startOff));
        }
        i = j + 1;
      }
    } catch (err) {
      if (err instanceof IndexCorruptError) return new ErrPostings(err);
      if (err instanceof RangeError) return new ErrPostings(this.#corrupt(0, err.message, err));
      throw err;
    }
    return lists.length === 1 ? lists[0]! : merge(...lists);
  }

  /** Decodes the postings list at absolute offset off, from run (starting at runOff) when it holds it. */
  #listAt(off: number, run: Uint8Array, runOff: number): BigEndianPostings {
    const limit = this.toc.postingsTable;
    if (off + 8 > limit) throw this.#corrupt(off, `postings list at offset ${off}: header beyond postings section end ${limit}`);
    let buf = run;
    let base = runOff;
    if (off < runOff || off + 4 > runOff + run.length) {
      buf = this.#src.read(off, 4);
      base = off;
    }
    const len = new Decbuf(buf.subarray(off - base, off - base + 4), off).be32();
    if (len < 4 || len % 4 !== 0 || off + 4 + len + 4 > limit) {
      throw this.#corrupt(off, `postings list at offset ${off}: invalid length ${len} (section ends at ${limit})`);
    }
    if (off + 8 + len > base + buf.length) {
      buf = this.#src.read(off, 8 + len);
      base = off;
    }
    const start = off - base + 4;
    const e = verifyCRC32C(buf, start, start + len, 'postings list', base);
    if (e !== null) throw this.#corrupt(e.offset, e.message, e);
    const n = new DataView(buf.buffer, buf.byteOffset + start, 4).getUint32(0);
    if (4 + 4 * n !== len) throw this.#corrupt(off + 4, `postings list at offset ${off}: ${n} entries do not match length ${len}`);
    return new BigEndianPostings(buf.subarray(start + 4, start + len));
  }

  /** Returns the window buffer holding [off, off+len), reading ahead when needed. */
  #window(off: number, len: number): Uint8Array {
    if (off < this.#winOff || off + len > this.#winOff + this.#win.length) {
      const limit = this.#src.size - TocLen;
      const n = Math.min(Math.max(len, seriesWindow), limit - off);
      this.#win = this.#src.read(off, n);
      this.#winOff = off;
    }
    return this.#win;
  }

  /**
   * series decodes the series entry with reference ref into its labels and, when chunks is given,
   * replaces the array's content with its chunk metas. Throws IndexCorruptError.
   */
  series(ref: number, chunks?: IndexChunkMeta[]): Labels {
    const off = ref * 16;
    const limit = this.#src.size - TocLen;
    if (!Number.isInteger(ref) || ref < 0 || off < HeaderLen || off + 5 > limit) {
      throw this.#corrupt(off, `series reference ${ref} (offset ${off}) is outside the index body`);
    }
    let win = this.#window(off, Math.min(10, limit - off));
    let d = new Decbuf(win.subarray(off - this.#winOff), off);
    const len = d.uvarint();
    const hdr = d.offset;
    let err = d.err();
    if (err !== null) throw this.#fromDecode(err, `series ${ref}`);
    if (off + hdr + len + 4 > limit) {
      throw this.#corrupt(off, `series ${ref} at offset ${off}: length ${len} runs beyond end of index body (${limit})`);
    }
    win = this.#window(off, hdr + len + 4);
    const s = off - this.#winOff + hdr;
    const ce = verifyCRC32C(win, s, s + len, `series ${ref}`, this.#winOff);
    if (ce !== null) throw this.#corrupt(ce.offset, ce.message, ce);
    d = new Decbuf(win.subarray(s, s + len), off + hdr);
    const kv: string[] = [];
    const bad = decodeSeriesBody(d, this.#symbolFn, kv, chunks);
    if (bad !== null) throw this.#corrupt(off, `series ${ref} at offset ${off}: ${bad}`);
    err = d.err();
    if (err !== null) throw this.#fromDecode(err, `series ${ref}`);
    return Labels.fromSortedFlat(kv);
  }

  /** close releases the byte source. */
  close(): void {
    this.#src.close();
  }
}

/** Index of the first element ≥ v in a byte-order sorted array. */
function searchSorted(a: readonly string[], v: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareStrings(a[mid]!, v) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
