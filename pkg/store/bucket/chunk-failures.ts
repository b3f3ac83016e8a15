import type { BucketBlock, ChunkFailure } from './bucket-block.js';
import type { CursorEntry } from './block-series-cursor.js';
import { GrpcCode, StoreError } from '../store-error.js';

/** BlockChunkFailures is what one request could not read from one block. */
export interface BlockChunkFailures {
  /** first is the first chunk that failed (file and offset for the warning). */
  readonly first: ChunkFailure;
  /** chunks counts the chunks that failed, series the series parts left out because of them. */
  chunks: number;
  series: number;
  /** covered counts left-out series parts whose time range other replicas' blocks cover. */
  covered: number;
}

/**
 * ChunkFailures collects, for one Series request, the chunks that could not be read and the series
 * of each block left out because of them, for one warning per block at the end of the response.
 * With the ABORT strategy (partial response disabled) a left-out series whose data no other block
 * covers fails the request at once: that data is really missing.
 */
export class ChunkFailures {
  /** replicas: replica labels are dropped, so equal series from several blocks are replicas. */
  readonly replicas: boolean;
  readonly minTime: number;
  readonly maxTime: number;
  /**
   * replicaLabels are the querier's replica labels when it keeps replicas apart (the request's
   * replica_labels_hint): other replicas of a series are then other series, looked up in blocks.
   */
  readonly replicaLabels: ReadonlySet<string>;
  readonly #abort: boolean;
  readonly byBlock = new Map<BucketBlock, BlockChunkFailures>();

  constructor(o: { replicas: boolean; replicaLabels?: ReadonlySet<string>; abort: boolean; minTime: number; maxTime: number }) {
    this.replicas = o.replicas;
    this.replicaLabels = o.replicaLabels ?? new Set();
    this.#abort = o.abort;
    this.minTime = o.minTime;
    this.maxTime = o.maxTime;
  }

  /** add records a failed chunk of block b. */
  add(b: BucketBlock, f: ChunkFailure): void {
    const x = this.byBlock.get(b);
    if (x === undefined) this.byBlock.set(b, { first: f, chunks: 1, series: 0, covered: 0 });
    else x.chunks++;
  }

  /**
   * series records series parts left out (each of its block's failure already added); covered
   * tells whether other blocks of the same series cover them. Throws under ABORT when not covered.
   */
  series(lost: readonly CursorEntry[], covered: boolean): void {
    for (const p of lost) {
      const x = this.byBlock.get(p.block)!;
      x.series++;
      if (covered) x.covered++;
    }
    if (!covered && this.#abort) {
      const p = lost[0]!;
      throw new StoreError(GrpcCode.Internal, `${describe(p.block, this.byBlock.get(p.block)!)}; series ${p.labels.toString()} has no other replica covering it`, { cause: this.byBlock.get(p.block)!.first.err });
    }
  }

  /** warnings returns one warning per block with failures. */
  warnings(): string[] {
    return [...this.byBlock].map(([b, x]) => describe(b, x));
  }
}

/** describe names the block, the first failed chunk's file and offset, and what was left out. */
function describe(b: BucketBlock, x: BlockChunkFailures): string {
  const f = x.first;
  const what = f.err.message.includes(f.file) ? f.err.message : `read chunk in ${f.file} at offset ${f.offset}: ${f.err.message}`;
  const more = x.chunks > 1 ? ` (and ${x.chunks - 1} more chunks)` : '';
  const covered = x.covered > 0 ? `, ${x.covered} of them covered by other replicas` : '';
  return `${what}${more}: left out ${x.series} series of block ${b.ulid}${covered}`;
}
