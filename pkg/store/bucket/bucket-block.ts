import { IndexHeader } from '../../block/index.js';
import { Decbuf, crc32c, readUvarint, UvarintStatus, verifyCRC32C, type UvarintRead } from '../../encoding/index.js';
import { Labels, type Matcher } from '../../labels/index.js';
import type { BucketReader } from '../../objstore/index.js';
import { chunkRecordChecksum, chunkRefOffset, chunkRefSegment, decodeSeriesBody, readChunkRecordLength, segmentFileName } from '../../tsdb/index.js';
import {
  BigEndianPostings,
  ListPostings,
  emptyPostings,
  expandPostings,
  merge,
  postingsForMatchers,
  type IndexChunkMeta,
  type Postings,
  type PostingsSource,
} from '../../tsdb/index.js';
import type { BlockMeta } from '../../tsdb/index.js';
import type { CachedChunk, ChunkCache } from './chunk-cache.js';
import type { DecodedSeries, IndexCache } from './index-cache.js';
import { partitionRanges, type ByteRange } from './partitioner.js';
import type { FetchKind, QueryBudget } from './query-budget.js';
import { GrpcCode, StoreError } from '../store-error.js';

/** Scratch for the length field being decoded (decoding is synchronous). */
const lenField: UvarintRead = { value: 0, next: 0 };

/** Default read-ahead estimates when meta.json has no index_stats (Thanos's defaults). */
const DEFAULT_SERIES_MAX_SIZE = 64 * 1024;
const DEFAULT_CHUNK_MAX_SIZE = 16_000;
/** Concurrent ranged reads per block and request. */
const READ_CONCURRENCY = 8;

/** SeriesEntry is one decoded series of a block: its labels (without external labels) and chunk metas. */
export interface SeriesEntry {
  readonly ref: number;
  readonly labels: Labels;
  readonly chunks: IndexChunkMeta[];
}

/** ReadPart is one coalesced read: its bytes and the indices of the input ranges it covers. */
interface ReadPart {
  readonly start: number;
  readonly data: Uint8Array;
  readonly first: number;
  readonly last: number;
  /** error is why the part could not be read (only from tolerant reads; data is then empty). */
  readonly error?: unknown;
}

/**
 * ChunkFailure is a chunk record that could not be read: the segment file, the record's offset,
 * and the error (corrupt: the bytes are there but wrong or missing from the file; otherwise the
 * read itself failed, e.g. the bucket was unreachable).
 */
export interface ChunkFailure {
  readonly file: string;
  readonly offset: number;
  readonly err: Error;
  readonly corrupt: boolean;
}

/** MAX_BAD_CHUNKS bounds how many failed chunk reads a block remembers (see BucketBlock.badChunks). */
const MAX_BAD_CHUNKS = 1024;

/**
 * RawChunk is a chunk record read from a segment: TSDB encoding byte and payload. A chunk from
 * the chunk cache also carries `hashed`, its memo of hashed StoreChunks (see toAggrChunk).
 */
export interface RawChunk {
  readonly encoding: number;
  readonly data: Uint8Array;
  readonly hashed?: CachedChunk['hashed'];
}

/** Options of a BucketBlock. */
export interface BucketBlockOptions {
  readonly meta: BlockMeta;
  readonly bucket: BucketReader;
  readonly cache: IndexCache;
  /** dir holds index-header files (`<data-dir>`); undefined keeps headers in memory only. */
  readonly dir?: string;
  /** partitionGap: ranges closer than this are read together (default 512 KiB). */
  readonly partitionGap?: number;
  /** chunkCache, when set, serves chunk records read before and keeps the ones read now. */
  readonly chunkCache?: ChunkCache;
}

/** BlockCorruptError marks data of a block in the bucket that cannot be decoded. */
export class BlockCorruptError extends StoreError {
  readonly block: string;
  constructor(block: string, message: string, options?: { cause?: unknown }) {
    super(GrpcCode.Internal, message, options);
    this.block = block;
  }
}

/**
 * BucketBlock is one block of the bucket as the store gateway serves it: meta.json in memory,
 * the index-header loaded on first use (built from ranged reads of the index, or read from the
 * local data dir) and dropped again by unload(), postings lists, series entries and chunks read
 * by coalesced ranged reads, postings and series through the shared IndexCache.
 *
 * A block whose index cannot be read keeps the error in `failure`; callers report it and skip
 * the block. Methods are safe to call from concurrent requests.
 */
export class BucketBlock {
  readonly meta: BlockMeta;
  readonly ulid: string;
  /** extLabels are the block's external labels (meta.json thanos.labels). */
  readonly extLabels: Labels;
  /** resolution is thanos.downsample.resolution in ms (0 = raw). */
  readonly resolution: number;
  readonly #o: BucketBlockOptions;
  readonly #gap: number;
  #header: IndexHeader | undefined;
  #loading: Promise<IndexHeader> | undefined;
  /** failure is the error that made the block unusable, if any. */
  failure: Error | undefined;
  /** lastUsed is the Date.now() of the last header use. */
  lastUsed = 0;
  /**
   * badChunks marks the chunk records (by ref) whose last read failed, with when it failed. The
   * block is still served: every query reads such chunks again (a repaired or re-uploaded file is
   * picked up), and a successful read clears the mark.
   */
  readonly badChunks = new Map<number, ChunkFailure & { readonly at: number }>();
  readonly #scratch: IndexChunkMeta[] = [];

  constructor(o: BucketBlockOptions) {
    this.#o = o;
    this.meta = o.meta;
    this.ulid = o.meta.ulid;
    this.extLabels = Labels.fromRecord(o.meta.thanos?.labels ?? {});
    this.resolution = o.meta.thanos?.downsample.resolution ?? 0;
    this.#gap = o.partitionGap ?? 512 * 1024;
  }

  /** loaded reports whether the index-header is in memory. */
  get loaded(): boolean {
    return this.#header !== undefined;
  }

  /** headerBytes is the memory held by the loaded index-header (0 when not loaded). */
  get headerBytes(): number {
    return this.#header?.byteSize ?? 0;
  }

  /**
   * header returns the index-header, loading it on first use (concurrent callers share the load).
   * A load failure is kept in `failure` and rethrown to every later caller.
   */
  async header(budget?: QueryBudget, signal?: AbortSignal): Promise<IndexHeader> {
    this.lastUsed = Date.now();
    if (this.#header !== undefined) return this.#header;
    if (this.failure !== undefined) throw this.failure;
    if (this.#loading === undefined) {
      const size = this.meta.thanos?.files?.find((f) => f.rel_path === 'index')?.size_bytes;
      this.#loading = IndexHeader.open({
        bucket: this.#o.bucket,
        ulid: this.ulid,
        ...(this.#o.dir !== undefined ? { dir: this.#o.dir } : {}),
        ...(size !== undefined ? { indexSize: size } : {}),
        ...(signal !== undefined ? { signal } : {}),
        ...(budget !== undefined ? { onFetch: (n: number) => budget.reserve(n, 'header') } : {}),
      }).then(
        (h) => {
          this.#header = h;
          this.#loading = undefined;
          return h;
        },
        (err: unknown) => {
          this.#loading = undefined;
          // An aborted request must not poison the block for others.
          if (!(err instanceof Error && (err.name === 'AbortError' || signal?.aborted === true))) this.failure = err as Error;
          throw err;
        },
      );
    }
    return this.#loading;
  }

  /** unload drops the in-memory index-header; the next use reloads it from the local file. */
  unload(): void {
    this.#header = undefined;
  }

  /**
   * Reads the given ranges of object `name`, coalesced; returns each part's start and bytes. Every
   * part is counted in the budget (downloaded bytes) and held in its in-flight bytes before the
   * read is issued; the caller releases `held` once it no longer keeps the parts' bytes.
   */
  async #readParts(name: string, ranges: readonly ByteRange[], kind: FetchKind, budget: QueryBudget, signal: AbortSignal, tolerant = false): Promise<{ parts: ReadPart[]; held: number }> {
    const parts = partitionRanges(ranges, this.#gap);
    const h = this.#header;
    if (h !== undefined && name === `${this.ulid}/index`) {
      // A small index is kept whole in the index-header: no reads.
      const local: ReadPart[] = [];
      for (const p of parts) {
        const data = h.resident(p.start, p.end);
        if (data === undefined) break;
        local.push({ start: p.start, data, first: p.first, last: p.last });
      }
      if (local.length === parts.length) return { parts: local, held: 0 };
    }
    const out = new Array<ReadPart>(parts.length);
    let held = 0;
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < parts.length) {
        const i = next++;
        const p = parts[i]!;
        const n = p.end - p.start;
        budget.reserve(n, kind);
        budget.hold(n, `${kind} of block ${this.ulid}`);
        held += n;
        let data: Uint8Array;
        try {
          data = await this.#o.bucket.getRange(name, p.start, n, { signal });
        } catch (err) {
          // A tolerant read reports the part as failed and goes on with the others; aborts still
          // end the whole read.
          if (!tolerant || signal.aborted) throw err;
          budget.refund(n, kind);
          budget.release(n);
          held -= n;
          out[i] = { start: p.start, data: new Uint8Array(0), first: p.first, last: p.last, error: err };
          continue;
        }
        budget.refund(n - data.length, kind);
        out[i] = { start: p.start, data, first: p.first, last: p.last };
      }
    };
    const res = await Promise.allSettled(Array.from({ length: Math.min(READ_CONCURRENCY, parts.length) }, async () => {
      try {
        await worker();
      } catch (err) {
        failed = true;
        throw err;
      }
    }));
    for (const r of res) {
      if (r.status === 'rejected') {
        budget.release(held);
        throw r.reason;
      }
    }
    return { parts: out, held };
  }

  /**
   * expandedPostings returns the sorted series refs matching every matcher. It resolves which
   * postings lists are needed from the index-header, reads the missing ones with coalesced
   * ranged reads (and caches them), then evaluates the matchers with Prometheus's semantics.
   */
  async expandedPostings(matchers: readonly Matcher[], budget: QueryBudget, signal: AbortSignal): Promise<number[]> {
    const h = await this.header(budget, signal);
    const rec = new KeyRecorder(h);
    postingsForMatchers(rec, matchers);
    const lists = new Map<string, Uint8Array>();
    const missing: { name: string; value: string; start: number; end: number }[] = [];
    let notCached: { name: string; value: string }[] = [];
    for (const k of rec.keys()) {
      const c = this.#o.cache.getPostings(this.ulid, k.name, k.value);
      if (c !== undefined) {
        lists.set(keyOf(k.name, k.value), c);
        budget.cachedPostings++;
        continue;
      }
      notCached.push(k);
    }
    if (notCached.length > 0 && this.#o.cache.hasRemote) {
      const got = await this.#o.cache.fetchPostings(this.ulid, notCached);
      const rest: { name: string; value: string }[] = [];
      for (let i = 0; i < notCached.length; i++) {
        const k = notCached[i]!;
        const c = got[i];
        if (c === undefined) rest.push(k);
        else {
          lists.set(keyOf(k.name, k.value), c);
          budget.cachedPostings++;
        }
      }
      notCached = rest;
    }
    for (const k of notCached) {
      const r = h.reader.postingsRange(k.name, k.value)!;
      missing.push({ name: k.name, value: k.value, start: r.start, end: r.end });
    }
    if (missing.length > 0) {
      missing.sort((a, b) => a.start - b.start);
      const name = `${this.ulid}/index`;
      const { parts, held } = await this.#readParts(name, missing, 'postings', budget, signal);
      try {
        for (const part of parts) {
          for (let k = part.first; k <= part.last; k++) {
            const m = missing[k]!;
            const body = this.#decodePostingsList(part.data, m.start - part.start, m.end - m.start, m.start);
            lists.set(keyOf(m.name, m.value), body);
            this.#o.cache.setPostings(this.ulid, m.name, m.value, body);
          }
        }
      } finally {
        budget.release(held);
      }
    }
    const p = postingsForMatchers(new ReplaySource(rec, lists), matchers);
    const refs = expandPostings(p);
    const err = p.err();
    if (err !== null) throw new BlockCorruptError(this.ulid, `expand postings of block ${this.ulid}: ${err.message}`, { cause: err });
    return refs;
  }

  /** Checks a postings list at buf[at] (file offset fileOff) and returns a copy of `n` + entries. */
  #decodePostingsList(buf: Uint8Array, at: number, avail: number, fileOff: number): Uint8Array {
    const where = `postings list of block ${this.ulid} at offset ${fileOff}`;
    if (at < 0 || at + 8 > buf.length || avail < 8) throw new BlockCorruptError(this.ulid, `read ${where}: range too short`);
    const dv = new DataView(buf.buffer, buf.byteOffset + at, Math.min(avail, buf.length - at));
    const len = dv.getUint32(0);
    if (len < 4 || len % 4 !== 0 || 4 + len + 4 > dv.byteLength) throw new BlockCorruptError(this.ulid, `read ${where}: invalid length ${len}`);
    const want = dv.getUint32(4 + len);
    const got = crc32c(buf, 0, at + 4, at + 4 + len);
    if (want !== got) throw new BlockCorruptError(this.ulid, `read ${where}: checksum mismatch`);
    const n = dv.getUint32(4);
    if (4 + 4 * n !== len) throw new BlockCorruptError(this.ulid, `read ${where}: ${n} entries do not match length ${len}`);
    return new Uint8Array(buf.subarray(at + 4, at + 4 + len));
  }

  /**
   * series returns the series of refs (sorted) with a chunk overlapping [mint, maxt], with chunk
   * metas narrowed to that range (all chunks dropped when skipChunks). Entries are read with
   * coalesced ranged reads and cached. Holds every entry at once: for bounded memory, use
   * seriesBodies and decodeEntry batch by batch.
   */
  async series(refs: readonly number[], mint: number, maxt: number, skipChunks: boolean, budget: QueryBudget, signal: AbortSignal): Promise<SeriesEntry[]> {
    const h = await this.header(budget, signal);
    const bodies = await this.seriesBodies(refs, budget, signal);
    const out: SeriesEntry[] = [];
    for (let i = 0; i < refs.length; i++) {
      const e = this.decodeEntry(h, bodies[i]!, refs[i]!, mint, maxt, skipChunks);
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  /**
   * seriesBodies returns the CRC-checked series entry bodies of refs (sorted), from the index cache
   * or read with coalesced ranged reads (and cached). The read buffers are held in the budget only
   * while the bodies are copied out of them. nextRef, when known, is the series after the last of
   * refs: reads never run past it.
   */
  async seriesBodies(refs: readonly number[], budget: QueryBudget, signal: AbortSignal, nextRef?: number): Promise<Uint8Array[]> {
    const h = await this.header(budget, signal);
    const bodies = new Array<Uint8Array>(refs.length);
    const missing: { i: number; start: number; end: number }[] = [];
    const est = this.meta.thanos?.index_stats.series_max_size ?? DEFAULT_SERIES_MAX_SIZE;
    const seriesEnd = h.seriesEnd;
    let notCached: number[] = [];
    for (let i = 0; i < refs.length; i++) {
      const c = this.#o.cache.getSeries(this.ulid, refs[i]!);
      if (c !== undefined) {
        bodies[i] = c;
        budget.cachedSeries++;
        continue;
      }
      notCached.push(i);
    }
    if (notCached.length > 0 && this.#o.cache.hasRemote) {
      const got = await this.#o.cache.fetchSeries(
        this.ulid,
        notCached.map((i) => refs[i]!),
      );
      const rest: number[] = [];
      for (let j = 0; j < notCached.length; j++) {
        const c = got[j];
        if (c === undefined) rest.push(notCached[j]!);
        else {
          bodies[notCached[j]!] = c;
          budget.cachedSeries++;
        }
      }
      notCached = rest;
    }
    for (const i of notCached) {
      const start = refs[i]! * 16;
      let end = Math.min(start + est, seriesEnd);
      const after = i + 1 < refs.length ? refs[i + 1] : nextRef;
      if (after !== undefined) end = Math.min(end, after * 16);
      if (end <= start) throw new BlockCorruptError(this.ulid, `read series ${refs[i]} of block ${this.ulid}: offset ${start} is outside the series section`);
      missing.push({ i, start, end });
    }
    if (missing.length === 0) return bodies;
    const name = `${this.ulid}/index`;
    const retry: { i: number; start: number; end: number }[] = [];
    const first = await this.#readParts(name, missing, 'series', budget, signal);
    try {
      for (const part of first.parts) {
        for (let k = part.first; k <= part.last; k++) {
          const m = missing[k]!;
          const body = this.#seriesBody(part.data, m.start - part.start, m.start);
          if (typeof body === 'number') retry.push({ i: m.i, start: m.start, end: m.start + body });
          else {
            bodies[m.i] = body;
            this.#o.cache.setSeries(this.ulid, refs[m.i]!, body);
          }
        }
      }
    } finally {
      budget.release(first.held);
    }
    if (retry.length > 0) {
      const again = await this.#readParts(name, retry, 'series', budget, signal);
      try {
        for (const part of again.parts) {
          for (let k = part.first; k <= part.last; k++) {
            const m = retry[k]!;
            const body = this.#seriesBody(part.data, m.start - part.start, m.start);
            if (typeof body === 'number') throw new BlockCorruptError(this.ulid, `read series ${refs[m.i]} of block ${this.ulid} at offset ${m.start}: entry runs past the index body`);
            bodies[m.i] = body;
            this.#o.cache.setSeries(this.ulid, refs[m.i]!, body);
          }
        }
      } finally {
        budget.release(again.held);
      }
    }
    return bodies;
  }

  /** selectChunks: see the function of that name below. */
  static readonly selectChunks = selectChunks;

  /**
   * seriesEntries returns the decoded series entries of refs (sorted): decoded entries kept in the
   * index cache are used as they are; the others are decoded from their bodies (seriesBodies) and
   * kept. The entries are shared: never modify them. nextRef is as for seriesBodies.
   */
  async seriesEntries(refs: readonly number[], budget: QueryBudget, signal: AbortSignal, nextRef?: number): Promise<DecodedSeries[]> {
    const cache = this.#o.cache;
    const out = new Array<DecodedSeries>(refs.length);
    let miss: number[] | undefined;
    for (let i = 0; i < refs.length; i++) {
      const d = cache.getDecodedSeries(this.ulid, refs[i]!);
      if (d !== undefined) {
        out[i] = d;
        budget.cachedSeries++;
      } else (miss ??= []).push(i);
    }
    if (miss === undefined) return out;
    const h = await this.header(budget, signal);
    const mrefs = miss.length === refs.length ? refs : miss.map((i) => refs[i]!);
    const last = miss[miss.length - 1]!;
    const bodies = await this.seriesBodies(mrefs, budget, signal, last + 1 < refs.length ? refs[last + 1] : nextRef);
    for (let k = 0; k < miss.length; k++) {
      const ref = mrefs[k]!;
      const body = bodies[k]!;
      const chunks: IndexChunkMeta[] = [];
      const labels = this.#decodeSeries(body, ref, h, chunks);
      const d: DecodedSeries = { labels, chunks, bodyBytes: body.length };
      cache.setDecodedSeries(this.ulid, ref, d);
      out[miss[k]!] = d;
    }
    return out;
  }

  /**
   * decodeEntry decodes the series entry body of ref (labels without external labels) and keeps
   * the chunk metas overlapping [mint, maxt]; undefined when none does. With skipChunks the entry
   * has no chunk metas.
   */
  decodeEntry(h: IndexHeader, body: Uint8Array, ref: number, mint: number, maxt: number, skipChunks: boolean): SeriesEntry | undefined {
    const chunks = this.#scratch;
    const labels = this.#decodeSeries(body, ref, h, chunks);
    let keep = false;
    const sel: IndexChunkMeta[] = [];
    for (const c of chunks) {
      if (c.maxTime < mint || c.minTime > maxt) continue;
      keep = true;
      if (!skipChunks) sel.push({ ref: c.ref, minTime: c.minTime, maxTime: c.maxTime });
      else break;
    }
    return keep ? { ref, labels, chunks: sel } : undefined;
  }

  /**
   * Returns a copy of the CRC-checked body of the series entry at buf[at], or the number of bytes
   * the entry needs when buf holds only part of it.
   */
  #seriesBody(buf: Uint8Array, at: number, fileOff: number): Uint8Array | number {
    const st = readUvarint(buf, at, buf.length, 5, lenField);
    if (st === UvarintStatus.Short) return buf.length - at + 16;
    if (st === UvarintStatus.Invalid) throw new BlockCorruptError(this.ulid, `read series of block ${this.ulid} at offset ${fileOff}: invalid length varint`);
    const len = lenField.value;
    const p = lenField.next;
    const need = p - at + len + 4;
    if (at + need > buf.length) return need;
    if (verifyCRC32C(buf, p, p + len, 'series') !== null) {
      throw new BlockCorruptError(this.ulid, `read series of block ${this.ulid} at offset ${fileOff}: checksum mismatch`);
    }
    return new Uint8Array(buf.subarray(p, p + len));
  }

  #decodeSeries(body: Uint8Array, ref: number, h: IndexHeader, chunks: IndexChunkMeta[]): Labels {
    const d = new Decbuf(body, ref * 16);
    const kv: string[] = [];
    let bad: string | null;
    try {
      bad = decodeSeriesBody(d, (r) => h.reader.symbol(r), kv, chunks);
    } catch (err) {
      throw new BlockCorruptError(this.ulid, `decode series ${ref} of block ${this.ulid}: ${(err as Error).message}`, { cause: err });
    }
    const err = d.err();
    if (bad !== null || err !== null) throw new BlockCorruptError(this.ulid, `decode series ${ref} of block ${this.ulid}: ${bad ?? err!.message}`, err !== null ? { cause: err } : undefined);
    return Labels.fromSortedFlat(kv);
  }

  /**
   * chunks reads the chunk records of refs from the segment files with coalesced ranged reads
   * (gap-based partitioning over the chunks of all the given series). Payloads are copied out of
   * the read buffers, so the request holds only the chunk bytes: `held` of them are held in the
   * budget, for the caller to release once the chunks are sent. With a chunk cache, cached chunks
   * are served without reads (and without being held: the cache owns them) and the chunks read are
   * added to it; returned chunks must not be modified.
   *
   * A chunk that cannot be read (a failed ranged read, a record past the end of a truncated file,
   * a checksum mismatch) does not fail the others: it is returned in `failed` (by ref, naming the
   * file and offset) and marked in badChunks. Only an abort or a request limit throws.
   */
  async chunks(refs: readonly number[], budget: QueryBudget, signal: AbortSignal): Promise<{ chunks: (RawChunk | undefined)[]; held: number; failed: Map<number, ChunkFailure> }> {
    // list[i] is the chunk of refs[i] (refs are distinct: the chunks of a request's series in one
    // block); chunks not in the memory cache pass through `out`, by ref.
    const list = new Array<RawChunk | undefined>(refs.length);
    let missed = false;
    const out = new Map<number, RawChunk>();
    const failed = new Map<number, ChunkFailure>();
    const bySeg = new Map<number, number[]>();
    const cache = this.#o.chunkCache;
    const addRead = (s: number, off: number): void => {
      let l = bySeg.get(s);
      if (l === undefined) bySeg.set(s, (l = []));
      l.push(off);
    };
    // Misses are looked up in a remote cache first (one batch), when there is one.
    const remote = cache !== undefined && cache.hasRemote;
    let notCached: { seg: number; off: number }[] = [];
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i]!;
      const s = chunkRefSegment(r);
      const off = chunkRefOffset(r);
      if (cache !== undefined) {
        // Cached chunks are served as they are: their bytes belong to the cache, not the request.
        const c = cache.get(this.ulid, s, off);
        if (c !== undefined) {
          list[i] = c;
          continue;
        }
      }
      missed = true;
      if (remote) notCached.push({ seg: s, off });
      else addRead(s, off);
    }
    if (remote && notCached.length > 0) {
      const got = await cache!.fetch(this.ulid, notCached);
      const rest: { seg: number; off: number }[] = [];
      for (let i = 0; i < notCached.length; i++) {
        const c = got[i];
        const l = notCached[i]!;
        if (c === undefined) rest.push(l);
        else out.set(l.seg * 0x100000000 + l.off, c);
      }
      notCached = rest;
    }
    for (const { seg: s, off } of notCached) if (!out.has(s * 0x100000000 + off)) addRead(s, off);
    const est = this.meta.thanos?.index_stats.chunk_max_size ?? DEFAULT_CHUNK_MAX_SIZE;
    let held = 0;
    // Chunks of one read are copied together into one buffer (one allocation, views into it), so
    // the request holds only the chunk bytes, not the gaps the read spanned. With a chunk cache,
    // each chunk gets its own copy instead, so that evicting it frees its memory.
    const keepAll = (found: { key: number; c: RawChunk }[]): void => {
      let n = 0;
      for (const f of found) n += f.c.data.length;
      budget.hold(n, `chunks of block ${this.ulid}`);
      held += n;
      if (this.badChunks.size > 0) for (const f of found) this.badChunks.delete(f.key);
      if (cache !== undefined) {
        for (const f of found) {
          const c: CachedChunk = { encoding: f.c.encoding, data: new Uint8Array(f.c.data), hashed: [], aggr: undefined, aggrFor: undefined, aggrHashed: false };
          const seg = Math.floor(f.key / 0x100000000);
          cache.set(this.ulid, seg, f.key - seg * 0x100000000, c);
          out.set(f.key, c);
        }
        return;
      }
      const buf = new Uint8Array(n);
      let at = 0;
      for (const f of found) {
        buf.set(f.c.data, at);
        out.set(f.key, { encoding: f.c.encoding, data: buf.subarray(at, at + f.c.data.length) });
        at += f.c.data.length;
      }
    };
    const fail = (key: number, file: string, offset: number, err: unknown): void => {
      const corrupt = err instanceof BlockCorruptError;
      const e = corrupt ? err : new StoreError(GrpcCode.Unavailable, `read chunk in ${file} at offset ${offset}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      const f: ChunkFailure = { file, offset, err: e, corrupt };
      failed.set(key, f);
      if (this.badChunks.size < MAX_BAD_CHUNKS || this.badChunks.has(key)) this.badChunks.set(key, { ...f, at: Date.now() });
    };
    // Decodes the records of a read; records that need more bytes than were read go to `retry`.
    const decode = (seg: number, name: string, parts: readonly ReadPart[], ranges: readonly ByteRange[], retry: ByteRange[] | undefined): void => {
      for (const part of parts) {
        const found: { key: number; c: RawChunk }[] = [];
        for (let k = part.first; k <= part.last; k++) {
          const r = ranges[k]!;
          const key = seg * 0x100000000 + r.start;
          if (part.error !== undefined) {
            fail(key, name, r.start, part.error);
            continue;
          }
          try {
            const c = this.#chunkRecord(part.data, r.start - part.start, name, r.start);
            if (typeof c !== 'number') found.push({ key, c });
            else if (retry !== undefined) retry.push({ start: r.start, end: r.start + c });
            else throw new BlockCorruptError(this.ulid, `read chunk in ${name} at offset ${r.start}: record runs past the end of the segment`);
          } catch (err) {
            if (!(err instanceof BlockCorruptError)) throw err;
            fail(key, name, r.start, err);
          }
        }
        keepAll(found);
      }
    };
    const results = await Promise.allSettled(
      [...bySeg].map(async ([seg, offs]) => {
        offs.sort((a, b) => a - b);
        const uniq = offs.filter((o, i) => i === 0 || offs[i - 1] !== o);
        const name = `${this.ulid}/chunks/${segmentFileName(seg)}`;
        // The last chunk's size is unknown: guess twice the largest distance between the chunks
        // read (chunks of neighbouring series are alike), within the block's maximum chunk size;
        // a chunk that turns out larger is read again.
        let gap = 0;
        for (let i = 1; i < uniq.length; i++) gap = Math.max(gap, uniq[i]! - uniq[i - 1]!);
        const lastEst = uniq.length > 1 ? Math.min(est, 2 * gap + 64) : est;
        const ranges = uniq.map((o, i) => ({ start: o, end: i + 1 < uniq.length ? Math.min(o + est, uniq[i + 1]!) : o + lastEst }));
        const retry: ByteRange[] = [];
        const first = await this.#readParts(name, ranges, 'chunks', budget, signal, true);
        try {
          decode(seg, name, first.parts, ranges, retry);
        } finally {
          budget.release(first.held);
        }
        if (retry.length > 0) {
          const again = await this.#readParts(name, retry, 'chunks', budget, signal, true);
          try {
            decode(seg, name, again.parts, retry, undefined);
          } finally {
            budget.release(again.held);
          }
        }
      }),
    );
    for (const r of results) {
      if (r.status === 'rejected') {
        budget.release(held);
        throw r.reason;
      }
    }
    if (missed) {
      for (let i = 0; i < refs.length; i++) {
        if (list[i] === undefined) list[i] = out.get(refs[i]!);
      }
    }
    return { chunks: list, held, failed };
  }

  /** Decodes the chunk record at buf[at], or returns the bytes it needs when buf is too short. */
  #chunkRecord(buf: Uint8Array, at: number, name: string, fileOff: number): RawChunk | number {
    if (at >= buf.length) throw new BlockCorruptError(this.ulid, `read chunk in ${name} at offset ${fileOff}: offset past the end of the segment`);
    const st = readChunkRecordLength(buf, at, buf.length, lenField);
    if (st === UvarintStatus.Short) return buf.length - at + 1 + DEFAULT_CHUNK_MAX_SIZE + 4;
    if (st === UvarintStatus.Invalid) throw new BlockCorruptError(this.ulid, `read chunk in ${name} at offset ${fileOff}: length field longer than 5 bytes`);
    const p = lenField.next;
    const len = lenField.value;
    const end = p + 1 + len;
    if (end + 4 > buf.length) return end + 4 - at;
    if (chunkRecordChecksum(buf, p, len) !== null) throw new BlockCorruptError(this.ulid, `read chunk in ${name} at offset ${fileOff}: checksum mismatch`);
    return { encoding: buf[p]!, data: buf.subarray(p + 1, end) };
  }

  /** labelNames returns the block's label names from the index-header (sorted). */
  async labelNames(budget: QueryBudget, signal: AbortSignal): Promise<readonly string[]> {
    return (await this.header(budget, signal)).reader.labelNames();
  }

  /** labelValues returns the values of name from the index-header (sorted). */
  async labelValues(name: string, budget: QueryBudget, signal: AbortSignal): Promise<readonly string[]> {
    return (await this.header(budget, signal)).reader.labelValues(name);
  }
}

const NO_CHUNKS: readonly IndexChunkMeta[] = [];

/**
 * selectChunks (BucketBlock.selectChunks) returns the chunk metas of d overlapping [mint, maxt] (d's own list when all do:
 * shared, never modify it), an empty list with skipChunks when any does, undefined when none does.
 */
function selectChunks(d: DecodedSeries, mint: number, maxt: number, skipChunks: boolean): readonly IndexChunkMeta[] | undefined {
  const cs = d.chunks;
  let n = 0;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    if (c.maxTime < mint || c.minTime > maxt) continue;
    if (skipChunks) return NO_CHUNKS;
    n++;
  }
  if (n === 0) return undefined;
  if (n === cs.length) return cs;
  const sel: IndexChunkMeta[] = [];
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    if (c.maxTime < mint || c.minTime > maxt) continue;
    sel.push(c);
  }
  return sel;
}

// Copies are made with new Uint8Array(view): bucket reads may return a Node Buffer, whose slice()
// is a view that would keep the whole read buffer alive in a cache.

function keyOf(name: string, value: string): string {
  return `${name}\u0000${value}`;
}

/**
 * KeyRecorder is the first pass of postingsForMatchers: it records, per call, which postings
 * lists (existing in the index-header) the matchers need, and returns placeholders. Absent lists
 * give the empty sentinel so the same short-circuits happen as in the real evaluation.
 */
class KeyRecorder implements PostingsSource {
  readonly #h: IndexHeader;
  readonly calls: { name: string; values: string[] }[] = [];

  constructor(h: IndexHeader) {
    this.#h = h;
  }

  keys(): { name: string; value: string }[] {
    const seen = new Set<string>();
    const out: { name: string; value: string }[] = [];
    for (const c of this.calls) {
      for (const v of c.values) {
        const k = keyOf(c.name, v);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ name: c.name, value: v });
      }
    }
    return out;
  }

  #record(name: string, values: string[]): Postings {
    this.calls.push({ name, values });
    return values.length === 0 ? emptyPostings() : new ListPostings([]);
  }

  allPostings(): Postings {
    return this.#record('', this.#h.reader.postingsRange('', '') !== undefined ? [''] : []);
  }

  postings(name: string, ...values: string[]): Postings {
    if (name === '' && values.length === 1 && values[0] === '') return this.allPostings();
    const known = new Set(this.#h.reader.labelValues(name));
    return this.#record(name, values.filter((v) => known.has(v)));
  }

  postingsForLabelMatching(name: string, match: (value: string) => boolean): Postings {
    return this.#record(name, this.#h.reader.labelValues(name).filter(match));
  }

  postingsForAllLabelValues(name: string): Postings {
    return this.#record(name, [...this.#h.reader.labelValues(name)]);
  }
}

/** ReplaySource is the second pass: it serves the recorded calls, in order, from fetched lists. */
class ReplaySource implements PostingsSource {
  readonly #rec: KeyRecorder;
  readonly #lists: Map<string, Uint8Array>;
  #i = 0;

  constructor(rec: KeyRecorder, lists: Map<string, Uint8Array>) {
    this.#rec = rec;
    this.#lists = lists;
  }

  #next(): Postings {
    const c = this.#rec.calls[this.#i++];
    if (c === undefined || c.values.length === 0) return emptyPostings();
    const ps: Postings[] = [];
    for (const v of c.values) {
      const body = this.#lists.get(keyOf(c.name, v));
      if (body !== undefined) ps.push(new BigEndianPostings(body.subarray(4)));
    }
    if (ps.length === 0) return emptyPostings();
    return ps.length === 1 ? ps[0]! : merge(...ps);
  }

  allPostings(): Postings {
    return this.#next();
  }
  postings(): Postings {
    return this.#next();
  }
  postingsForLabelMatching(): Postings {
    return this.#next();
  }
  postingsForAllLabelValues(): Postings {
    return this.#next();
  }
}
