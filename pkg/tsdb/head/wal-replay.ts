import { readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { TesseraError } from '../../errors/index.js';
import { decodeRecord, listCheckpoints, listSegments, readSegmentRecords, segmentName, type RecordVisitor } from '../wal/index.js';
import type { Head } from './head.js';
import type { MemSeries } from './mem-series.js';

/** WalDamage reports a damaged WAL tail that replay cut off. */
export interface WalDamage {
  /** segment file that was truncated, and the offset it was truncated to (start of the bad record). */
  readonly segment: string;
  readonly offset: number;
  readonly reason: string;
  /** later segment files deleted because they followed the damage. */
  readonly deletedSegments: readonly string[];
}

/** WalReplayStats tell what a replay loaded. */
export interface WalReplayStats {
  readonly checkpoint: number | undefined;
  readonly segments: number;
  readonly records: number;
  readonly series: number;
  readonly samples: number;
  /** samples skipped: unknown series reference, out of order, or before the head's minValidTime. */
  readonly skipped: number;
  readonly damage: WalDamage | undefined;
}

/**
 * replayWal loads `walDir` (the newest checkpoint, then the segments after it) into the head
 * without logging. A damaged record (torn write after a crash, checksum mismatch) ends the replay:
 * the segment is truncated to the start of that record and later segments are deleted, as
 * Prometheus's WAL repair does, and the damage is reported in the stats. With repair false, a
 * damaged WAL is an error instead.
 */
export async function replayWal(walDir: string, head: Head, opts: { repair?: boolean } = {}): Promise<WalReplayStats> {
  const repair = opts.repair ?? true;
  const refs = new Map<number, MemSeries>();
  let records = 0;
  let series = 0;
  let samples = 0;
  let skipped = 0;
  const lookup = (ref: number): MemSeries | undefined => refs.get(ref) ?? head.series(ref);
  const visitor: RecordVisitor = {
    series: (ref, labels) => {
      refs.set(ref, head.replaySeries(ref, labels));
      series++;
    },
    sample: (ref, t, v) => {
      const s = lookup(ref);
      if (s !== undefined && head.replaySample(s, t, v)) samples++;
      else skipped++;
    },
    histogram: (ref, t, h) => {
      const s = lookup(ref);
      if (s !== undefined && head.replayHistogram(s, t, h)) samples++;
      else skipped++;
    },
  };
  const onRecord = (rec: Uint8Array) => {
    records++;
    decodeRecord(rec, visitor);
  };
  const cps = await listCheckpoints(walDir);
  const cp = cps[cps.length - 1];
  if (cp !== undefined) {
    for (const i of await listSegments(cp.dir)) {
      const file = join(cp.dir, segmentName(i));
      const d = readSegmentRecords(new Uint8Array(await readFile(file)), onRecord);
      if (d !== undefined) throw new TesseraError('TESSERA_WAL_CORRUPT', `replay WAL checkpoint ${file}: damaged at offset ${d.offset}: ${d.reason}`);
    }
  }
  const segs = (await listSegments(walDir)).filter((i) => cp === undefined || i > cp.index);
  let damage: WalDamage | undefined;
  for (let k = 0; k < segs.length; k++) {
    const file = join(walDir, segmentName(segs[k]!));
    const d = readSegmentRecords(new Uint8Array(await readFile(file)), onRecord);
    if (d === undefined) continue;
    if (!repair) throw new TesseraError('TESSERA_WAL_CORRUPT', `replay WAL ${file}: damaged at offset ${d.offset}: ${d.reason}`);
    await truncate(file, d.offset);
    const deleted: string[] = [];
    for (const later of segs.slice(k + 1)) {
      const f = join(walDir, segmentName(later));
      await rm(f, { force: true });
      deleted.push(f);
    }
    damage = { segment: file, offset: d.offset, reason: d.reason, deletedSegments: deleted };
    break;
  }
  return { checkpoint: cp?.index, segments: segs.length, records, series, samples, skipped, damage };
}
