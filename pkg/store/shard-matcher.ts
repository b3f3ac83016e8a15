import type { Labels } from '../labels/index.js';
import { type ShardInfo, type XXHash64Result, xxhash64 } from '../storepb/index.js';

const TWO_32 = 4294967296;
const encoder = new TextEncoder();

/**
 * ShardMatcher decides whether a series belongs to the requested shard (SeriesRequest.shard_info),
 * exactly as Thanos does: xxHash64 of `name 0xFF value 0xFF` for the selected labels (those in
 * `labels` when `by`, else all others, external labels included) modulo total_shards must equal
 * shard_index. The key buffer and hash result are reused across calls.
 */
export class ShardMatcher {
  readonly #labels: ReadonlySet<string>;
  readonly #by: boolean;
  readonly #total: number;
  readonly #index: number;
  #buf = new Uint8Array(256);
  readonly #h: XXHash64Result = { hi: 0, lo: 0 };

  private constructor(info: ShardInfo) {
    this.#labels = new Set(info.labels);
    this.#by = info.by;
    this.#total = info.totalShards;
    this.#index = info.shardIndex;
  }

  /** of returns a matcher for the request's shard info, or undefined when it is not sharded. */
  static of(info: ShardInfo | undefined): ShardMatcher | undefined {
    return info === undefined || info.totalShards < 1 ? undefined : new ShardMatcher(info);
  }

  #put(pos: number, s: string): number {
    // Worst case 3 bytes per UTF-16 unit, plus the separator.
    const need = pos + s.length * 3 + 1;
    if (need > this.#buf.length) {
      const nb = new Uint8Array(Math.max(need, this.#buf.length * 2));
      nb.set(this.#buf.subarray(0, pos));
      this.#buf = nb;
    }
    pos += encoder.encodeInto(s, this.#buf.subarray(pos)).written;
    this.#buf[pos] = 0xff;
    return pos + 1;
  }

  /** matches reports whether the series with these (final) labels is in the shard. */
  matches(ls: Labels): boolean {
    let pos = 0;
    const kv = ls.flat();
    for (let i = 0; i < kv.length; i += 2) {
      if (this.#labels.has(kv[i]!) !== this.#by) continue;
      pos = this.#put(pos, kv[i]!);
      pos = this.#put(pos, kv[i + 1]!);
    }
    const h = xxhash64(this.#buf, this.#h, 0, pos);
    const n = this.#total;
    let mod: number;
    if (n <= 1 << 26) mod = ((h.hi % n) * (TWO_32 % n) + (h.lo % n)) % n;
    else mod = Number(((BigInt(h.hi) << 32n) | BigInt(h.lo)) % BigInt(n));
    return mod === this.#index;
  }
}
