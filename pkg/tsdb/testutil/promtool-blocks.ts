import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DataSet, openMetricsText, type DataSetOptions } from '../../datagen/index.js';

/** writeOpenMetricsSync writes a generated data set as OpenMetrics text to file (synchronously). */
export function writeOpenMetricsSync(opts: DataSetOptions, file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const piece of openMetricsText(new DataSet(opts))) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
}

/**
 * makePromtoolBlocks writes an OpenMetrics data set with the project's generator (pkg/datagen) and turns it into
 * real Prometheus blocks with `promtool tsdb create-blocks-from openmetrics`, in `dir/data`.
 * Returns the data dir and the block ULIDs (sorted).
 */
export function makePromtoolBlocks(promtool: string, dir: string, opts: { hosts: number; hours: number }): { dataDir: string; blocks: string[] } {
  const om = join(dir, 'data.om');
  const dataDir = join(dir, 'data');
  writeOpenMetricsSync({ hosts: opts.hosts, hours: opts.hours }, om);
  execFileSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', om, dataDir], { stdio: 'pipe' });
  const blocks = readdirSync(dataDir).filter((n) => /^[0-9A-Z]{26}$/.test(n)).sort();
  return { dataDir, blocks };
}

/** DumpedSeries maps a label set string ({a="b", …}) to its [timestamp, value] samples. */
export type DumpedSeries = Map<string, [number, number][]>;

/**
 * promtoolDump runs `promtool tsdb dump` on a data dir (creating the empty `wal/` it needs) and
 * parses its lines `{labels} value timestamp`.
 */
export function promtoolDump(promtool: string, dataDir: string, extra: readonly string[] = []): DumpedSeries {
  mkdirSync(join(dataDir, 'wal'), { recursive: true });
  const out = execFileSync(promtool, ['tsdb', 'dump', ...extra, dataDir], { maxBuffer: 1 << 30, encoding: 'utf8' });
  const res: DumpedSeries = new Map();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const close = line.lastIndexOf('} ');
    const lset = line.slice(0, close + 1);
    const [v, t] = line.slice(close + 2).split(' ');
    let arr = res.get(lset);
    if (arr === undefined) res.set(lset, (arr = []));
    arr.push([Number(t), v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v)]);
  }
  return res;
}
