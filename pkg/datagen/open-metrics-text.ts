import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Labels } from '../labels/index.js';
import type { DataSet } from './data-set.js';

/** OpenMetricsStats summarises what openMetricsText wrote. */
export interface OpenMetricsStats {
  series: number;
  samples: number;
  /** firstMs/lastMs are the first and last timestamps written (NaN before any sample). */
  firstMs: number;
  lastMs: number;
}

const CHUNK = 1 << 20;

function labelText(l: Labels): string {
  const parts: string[] = [];
  l.forEach((n, v) => {
    if (n !== '__name__') parts.push(`${n}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  });
  return `{${parts.join(',')}}`;
}

/**
 * openMetricsText renders a data set as OpenMetrics text with a timestamp on every sample (what
 * `promtool tsdb create-blocks-from openmetrics` backfills), in pieces of about 1 MiB, ending with
 * `# EOF`. Each series is written whole, one after the other; native histograms are left out (the
 * OpenMetrics text format has no representation for them). `stats` is filled in as it goes.
 */
export function* openMetricsText(ds: DataSet, stats: OpenMetricsStats = { series: 0, samples: 0, firstMs: NaN, lastMs: NaN }): Generator<string> {
  const ts = ds.timestamps;
  const tsText: (string | undefined)[] = Array.from(ts, (t) => (Number.isNaN(t) ? undefined : (t / 1000).toFixed(3)));
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (Number.isNaN(t)) continue;
    if (Number.isNaN(stats.firstMs) || t < stats.firstMs) stats.firstMs = t;
    if (Number.isNaN(stats.lastMs) || t > stats.lastMs) stats.lastMs = t;
  }
  let buf = '';
  let family = '';
  for (const g of ds.families()) {
    if (g.name !== family) {
      family = g.name;
      buf += `# HELP ${g.name} ${g.help}\n# TYPE ${g.name} ${g.type}\n`;
    }
    for (const s of g.floats) {
      stats.series++;
      const prefix = `${s.labels.get('__name__')}${labelText(s.labels)} `;
      const vs = s.values;
      for (let i = 0; i < vs.length; i++) {
        const t = tsText[i];
        if (t === undefined) continue;
        buf += `${prefix}${vs[i]!} ${t}\n`;
        stats.samples++;
        if (buf.length >= CHUNK) {
          yield buf;
          buf = '';
        }
      }
    }
  }
  yield `${buf}# EOF\n`;
}

/** writeOpenMetrics writes openMetricsText(ds) to a stream with back-pressure and returns the stats. */
export async function writeOpenMetrics(ds: DataSet, out: NodeJS.WritableStream): Promise<OpenMetricsStats> {
  const stats: OpenMetricsStats = { series: 0, samples: 0, firstMs: NaN, lastMs: NaN };
  for (const piece of openMetricsText(ds, stats)) {
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  return stats;
}

/** writeOpenMetricsFile writes openMetricsText(ds) to a file (replaced if it exists) and returns the stats. */
export async function writeOpenMetricsFile(ds: DataSet, path: string): Promise<OpenMetricsStats> {
  const out = createWriteStream(path);
  try {
    const stats = await writeOpenMetrics(ds, out);
    out.end();
    await finished(out);
    return stats;
  } catch (err) {
    out.destroy();
    throw err;
  }
}
