import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareStrings, type Matcher } from '../../labels/index.js';
import {
  mergeChunkSeriesSets,
  mergeLabelResults,
  mergeSeriesSets,
  type CallOptions,
  type ChunkQuerier,
  type ChunkQueryable,
  type ChunkSeriesSet,
  type LabelHints,
  type LabelQuerier,
  type LabelResult,
  type Querier,
  type Queryable,
  type SelectHints,
  type SeriesSet,
} from '../../storage/index.js';
import { BlockReader } from './block-reader.js';
import { isUlid } from '../meta/index.js';

/**
 * BlockDB is a read-only view of the blocks of a Prometheus data dir (or any dir of blocks):
 * queriers merge the blocks overlapping the range (k-way merge of sorted series sets; series
 * present in overlapping blocks are merged vertically, samples deduplicated by timestamp).
 */
export class BlockDB implements Queryable, ChunkQueryable {
  readonly dir: string;
  /** blocks ordered by minTime, then ULID. */
  readonly blocks: readonly BlockReader[];

  constructor(dir: string, blocks: readonly BlockReader[]) {
    this.dir = dir;
    this.blocks = [...blocks].sort((a, b) => a.minTime - b.minTime || compareStrings(a.ulid, b.ulid));
  }

  #overlapping(mint: number, maxt: number): BlockReader[] {
    return this.blocks.filter((b) => b.minTime <= maxt && b.maxTime > mint);
  }

  async querier(mint: number, maxt: number): Promise<Querier> {
    const qs = await Promise.all(this.#overlapping(mint, maxt).map((b) => b.querier(mint, maxt)));
    return new MergeQuerier(qs);
  }

  async chunkQuerier(mint: number, maxt: number): Promise<ChunkQuerier> {
    const qs = await Promise.all(this.#overlapping(mint, maxt).map((b) => b.chunkQuerier(mint, maxt)));
    return new MergeChunkQuerier(qs);
  }

  /** close closes every block. */
  close(): void {
    for (const b of this.blocks) b.close();
  }
}

/**
 * openDB opens every block directory directly under dir: entries whose name is a ULID. Everything
 * else is skipped (`wal/`, `chunks_head/`, `*.tmp-for-creation`, `*.tmp-for-deletion`, `lock`, …).
 * If any block fails to open, the ones already opened are closed and the error is thrown.
 */
export async function openDB(dir: string): Promise<BlockDB> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory() && isUlid(e.name)).map((e) => e.name).sort();
  const blocks: BlockReader[] = [];
  try {
    for (const n of names) blocks.push(await BlockReader.open(join(dir, n)));
  } catch (err) {
    for (const b of blocks) b.close();
    throw err;
  }
  return new BlockDB(dir, blocks);
}

/** Label lookups over several queriers: sorted union of their answers. */
class MergeLabelQuerier<Q extends LabelQuerier> {
  protected readonly qs: readonly Q[];
  constructor(qs: readonly Q[]) {
    this.qs = qs;
  }

  async labelValues(name: string, matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    return mergeLabelResults(await Promise.all(this.qs.map((q) => q.labelValues(name, matchers, hints, opts))), hints);
  }

  async labelNames(matchers: readonly Matcher[], hints?: LabelHints, opts?: CallOptions): Promise<LabelResult> {
    return mergeLabelResults(await Promise.all(this.qs.map((q) => q.labelNames(matchers, hints, opts))), hints);
  }

  async close(): Promise<void> {
    await Promise.all(this.qs.map((q) => q.close()));
  }
}


class MergeQuerier extends MergeLabelQuerier<Querier> implements Querier {
  async select(_sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<SeriesSet> {
    return mergeSeriesSets(await Promise.all(this.qs.map((q) => q.select(true, hints, matchers, opts))));
  }
}

class MergeChunkQuerier extends MergeLabelQuerier<ChunkQuerier> implements ChunkQuerier {
  async select(_sort: boolean, hints: SelectHints | undefined, matchers: readonly Matcher[], opts?: CallOptions): Promise<ChunkSeriesSet> {
    return mergeChunkSeriesSets(await Promise.all(this.qs.map((q) => q.select(true, hints, matchers, opts))));
  }
}
