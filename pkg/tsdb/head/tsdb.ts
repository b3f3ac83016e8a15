import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Appendable, Appender, ChunkQuerier, ChunkQueryable, Querier, Queryable } from '../../storage/index.js';
import { Wal } from '../wal/index.js';
import { Head } from './head.js';
import { replayWal, type WalReplayStats } from './wal-replay.js';

/** TsdbOptions configure a Tsdb. */
export interface TsdbOptions {
  /** chunkRange of the head in ms (default 2h). */
  readonly chunkRange?: number;
  /** samplesPerChunk of the head (default 120). */
  readonly samplesPerChunk?: number;
  /** walSegmentSize in bytes, a multiple of 32 KiB (default 128 MiB). */
  readonly walSegmentSize?: number;
  /** fsync every commit (default false: commits are written to the OS, surviving kill -9; see WalOptions). */
  readonly fsync?: boolean;
}

/**
 * Tsdb is a writable TSDB in a data directory: a Head whose commits go to the write-ahead log in
 * `<dir>/wal` (Prometheus's format) before they are applied; open() replays the WAL (repairing a
 * torn tail) before accepting appends.
 */
export class Tsdb implements Appendable, ChunkQueryable, Queryable {
  readonly dir: string;
  readonly head: Head;
  readonly wal: Wal;
  /** replay tells what open() loaded from the WAL (and any damage it cut off). */
  readonly replay: WalReplayStats;

  protected constructor(dir: string, head: Head, wal: Wal, replay: WalReplayStats) {
    this.dir = dir;
    this.head = head;
    this.wal = wal;
    this.replay = replay;
  }

  /** open replays `<dir>/wal` into a new head and starts a new WAL segment. */
  static async open(dir: string, opts: TsdbOptions = {}): Promise<Tsdb> {
    const { head, wal, replay } = await Tsdb.openParts(dir, opts, -Infinity);
    return new Tsdb(dir, head, wal, replay);
  }

  /** openParts is open() for subclasses: the head starts with minValidTime (e.g. the newest block's maxTime). */
  protected static async openParts(dir: string, opts: TsdbOptions, minValidTime: number): Promise<{ head: Head; wal: Wal; replay: WalReplayStats }> {
    await mkdir(dir, { recursive: true });
    const walDir = join(dir, 'wal');
    let wal: Wal | undefined;
    const head = new Head({
      ...(opts.chunkRange !== undefined ? { chunkRange: opts.chunkRange } : {}),
      ...(opts.samplesPerChunk !== undefined ? { samplesPerChunk: opts.samplesPerChunk } : {}),
      log: { log: (recs) => wal!.log(recs) },
    });
    if (minValidTime > -Infinity) head.truncate(minValidTime);
    const replay = await replayWal(walDir, head);
    wal = await Wal.open(walDir, {
      ...(opts.walSegmentSize !== undefined ? { segmentSize: opts.walSegmentSize } : {}),
      ...(opts.fsync !== undefined ? { fsync: opts.fsync } : {}),
    });
    return { head, wal, replay };
  }

  appender(): Appender {
    return this.head.appender();
  }

  chunkQuerier(mint: number, maxt: number): Promise<ChunkQuerier> {
    return this.head.chunkQuerier(mint, maxt);
  }

  querier(mint: number, maxt: number): Promise<Querier> {
    return this.head.querier(mint, maxt);
  }

  /** close waits for running commits and closes the WAL. */
  async close(): Promise<void> {
    await this.head.waitForCommits();
    await this.wal.close();
  }
}
