import { Labels } from '../labels/index.js';
import { xxhash64 } from '../storepb/index.js';
import type { BlockMeta } from '../tsdb/index.js';

/** CompactionGroup is the blocks of one (resolution, external labels) pair, sorted by minTime. */
export interface CompactionGroup {
  /** key is Thanos's group key, `<resolution>@<label-set hash>`. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly resolution: number;
  readonly metas: BlockMeta[];
}

const enc = new TextEncoder();

/**
 * labelSetHash is Prometheus's labels.Hash in the `slicelabels` layout (algorithms.md §0):
 * xxHash64 over `name 0xFF value 0xFF` of the sorted labels, as an unsigned decimal string.
 */
export function labelSetHash(labels: Readonly<Record<string, string>>): string {
  const parts: Uint8Array[] = [];
  let len = 0;
  Labels.fromRecord({ ...labels }).forEach((name, value) => {
    const n = enc.encode(name);
    const v = enc.encode(value);
    parts.push(n, v);
    len += n.length + v.length + 2;
  });
  const buf = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
    buf[off++] = 0xff;
  }
  const h = xxhash64(buf);
  return ((BigInt(h.hi) << 32n) | BigInt(h.lo)).toString();
}

/** groupKey is the compaction group key of a block: `<resolution>@<hash of thanos.labels>`. */
export function groupKey(meta: BlockMeta): string {
  return `${meta.thanos?.downsample.resolution ?? 0}@${labelSetHash(meta.thanos?.labels ?? {})}`;
}

/** compareMinTime orders blocks by minTime, then ULID (a stable, deterministic order). */
export function compareMinTime(a: BlockMeta, b: BlockMeta): number {
  return a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0);
}

/** groupBlocks splits blocks into compaction groups, sorted by key, each sorted by minTime. */
export function groupBlocks(metas: Iterable<BlockMeta>): CompactionGroup[] {
  const groups = new Map<string, CompactionGroup>();
  for (const m of metas) {
    const key = groupKey(m);
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, labels: { ...(m.thanos?.labels ?? {}) }, resolution: m.thanos?.downsample.resolution ?? 0, metas: [] };
      groups.set(key, g);
    }
    g.metas.push(m);
  }
  const out = [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const g of out) g.metas.sort(compareMinTime);
  return out;
}

/** resolutionName is the label Thanos uses for a resolution in logs and metrics: raw, 5m, 1h, 1d. */
export function resolutionName(resolution: number): string {
  switch (resolution) {
    case 0:
      return 'raw';
    case 300_000:
      return '5m';
    case 3_600_000:
      return '1h';
    case 86_400_000:
      return '1d';
    default:
      return `${resolution}ms`;
  }
}
