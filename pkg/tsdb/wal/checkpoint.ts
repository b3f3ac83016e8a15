import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CUSTOM_BUCKETS_SCHEMA } from '../../chunkenc/index.js';
import { Encbuf } from '../../encoding/index.js';
import { TesseraError } from '../../errors/index.js';
import type { FloatHistogram } from '../../histogram/index.js';
import type { Labels } from '../../labels/index.js';
import { decodeRecord, encodeFloatHistogramRecord, encodeSamplesRecord, encodeSeriesRecord } from './records.js';
import { readSegmentRecords } from './segment-reader.js';
import { checkpointName, listCheckpoints, listSegments, segmentName } from './segments.js';
import { Wal } from './wal.js';

/** CheckpointStats tell what a checkpoint kept and removed. */
export interface CheckpointStats {
  readonly index: number;
  readonly seriesKept: number;
  readonly samplesKept: number;
  readonly samplesDropped: number;
  readonly segmentsDeleted: number;
}

/**
 * checkpoint compacts the WAL up to segment `to` (inclusive) as Prometheus's wlog.Checkpoint does:
 * the previous checkpoint and segments ≤ to are read, series records kept for references
 * keepSeries accepts, samples and histograms kept when at or after mint (and of a kept series),
 * written to `checkpoint.<to>` (built in a `.tmp` directory and renamed), then segments ≤ to and
 * older checkpoints are deleted. `to` must be below the segment being written.
 */
export async function checkpoint(walDir: string, to: number, keepSeries: (ref: number) => boolean, mint: number): Promise<CheckpointStats> {
  const prev = (await listCheckpoints(walDir)).filter((c) => c.index <= to);
  const last = prev[prev.length - 1];
  const sources: string[] = [];
  if (last !== undefined) for (const i of await listSegments(last.dir)) sources.push(join(last.dir, segmentName(i)));
  const segs = (await listSegments(walDir)).filter((i) => i <= to && (last === undefined || i > last.index));
  for (const i of segs) sources.push(join(walDir, segmentName(i)));

  const tmp = join(walDir, `${checkpointName(to)}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  const out = await Wal.open(tmp);
  const buf = new Encbuf(1 << 16);
  let seriesKept = 0;
  let samplesKept = 0;
  let samplesDropped = 0;
  try {
    for (const file of sources) {
      const data = new Uint8Array(await readFile(file));
      const recs: Uint8Array[] = [];
      const series: { ref: number; labels: Labels }[] = [];
      const refs: number[] = [];
      const ts: number[] = [];
      // Values in a Float64Array: a JS number[] holding doubles canonicalises NaN payloads, which
      // would turn stale markers into plain NaNs.
      let vs = new Float64Array(1024);
      const href: number[] = [];
      const ht: number[] = [];
      const hh: FloatHistogram[] = [];
      const flush = () => {
        if (series.length > 0) {
          buf.reset();
          encodeSeriesRecord(buf, series);
          recs.push(buf.get().slice());
          seriesKept += series.length;
          series.length = 0;
        }
        if (refs.length > 0) {
          buf.reset();
          encodeSamplesRecord(buf, refs, ts, vs, 0, refs.length);
          recs.push(buf.get().slice());
          samplesKept += refs.length;
          refs.length = ts.length = 0;
        }
        for (const custom of [false, true]) {
          const idx = hh.map((h, i) => ((h.schema === CUSTOM_BUCKETS_SCHEMA) === custom ? i : -1)).filter((i) => i >= 0);
          if (idx.length === 0) continue;
          buf.reset();
          encodeFloatHistogramRecord(buf, custom, idx.map((i) => href[i]!), idx.map((i) => ht[i]!), idx.map((i) => hh[i]!));
          recs.push(buf.get().slice());
          samplesKept += idx.length;
        }
        href.length = ht.length = hh.length = 0;
      };
      const damage = readSegmentRecords(data, (rec) => {
        decodeRecord(rec, {
          series: (ref, labels) => {
            if (keepSeries(ref)) series.push({ ref, labels });
          },
          sample: (ref, t, v) => {
            if (t >= mint && keepSeries(ref)) {
              refs.push(ref);
              ts.push(t);
              if (refs.length > vs.length) {
                const nv = new Float64Array(vs.length * 2);
                nv.set(vs);
                vs = nv;
              }
              vs[refs.length - 1] = v;
            } else samplesDropped++;
          },
          histogram: (ref, t, h) => {
            if (t >= mint && keepSeries(ref)) {
              href.push(ref);
              ht.push(t);
              hh.push(h);
            } else samplesDropped++;
          },
        });
        // Keep record boundaries roughly: flush per source record so series precede their samples.
        flush();
      });
      if (damage !== undefined) {
        throw new TesseraError('TESSERA_WAL_CORRUPT', `checkpoint WAL ${walDir}: ${file} is damaged at offset ${damage.offset}: ${damage.reason}`);
      }
      if (recs.length > 0) await out.log(recs);
    }
  } catch (e) {
    await out.close();
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await out.close();
  const final = join(walDir, checkpointName(to));
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  let segmentsDeleted = 0;
  for (const i of await listSegments(walDir)) {
    if (i > to) continue;
    await rm(join(walDir, segmentName(i)), { force: true });
    segmentsDeleted++;
  }
  for (const c of await listCheckpoints(walDir)) if (c.index < to) await rm(c.dir, { recursive: true, force: true });
  return { index: to, seriesKept, samplesKept, samplesDropped, segmentsDeleted };
}
