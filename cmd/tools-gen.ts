import { UsageError, flagBool, flagString, type Command, type FlagSpec, type RunContext } from './command.js';
import { DataSet, isDataGenError, writeDataSetBlocks, writeOpenMetrics, writeOpenMetricsFile, type DataSetOptions } from '../pkg/datagen/index.js';

const dataSetFlags: Readonly<Record<string, FlagSpec>> = {
  hosts: { type: 'string', default: '20', help: 'Monitored hosts (about 75 series each).' },
  hours: { type: 'string', default: '4', help: 'Length of the data set in hours (fractions allowed).' },
  interval: { type: 'string', default: '15', help: 'Scrape interval in seconds.' },
  start: { type: 'string', default: '1767225600', help: 'First scrape, unix seconds (default 2026-01-01T00:00Z, 2h aligned).' },
  replica: {
    type: 'string',
    default: 'a',
    help: "HA replica: 'a' scrapes on interval multiples; any other name has the same series and values, scraped 250-649 ms later, with a 10-minute gap halfway.",
  },
  seed: { type: 'string', default: '42', help: 'PRNG seed.' },
};

function num(ctx: RunContext, name: string, integer: boolean): number {
  const s = flagString(ctx, name);
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new UsageError(`--${name}: "${s}" is not ${integer ? 'an integer' : 'a number'}`);
  return v;
}

function dataSetOptions(ctx: RunContext): DataSetOptions {
  return {
    hosts: num(ctx, 'hosts', true),
    hours: num(ctx, 'hours', false),
    intervalSec: num(ctx, 'interval', true),
    startSec: num(ctx, 'start', true),
    replica: flagString(ctx, 'replica'),
    seed: num(ctx, 'seed', true),
  };
}

/** Prints option errors of the generator as one line and exits 1. */
function reportErrors(run: (ctx: RunContext) => Promise<number | void>): (ctx: RunContext) => Promise<number | void> {
  return async (ctx) => {
    try {
      return await run(ctx);
    } catch (err) {
      if (!isDataGenError(err) && (err as NodeJS.ErrnoException).code === undefined) throw err;
      ctx.stderr.write(`error: ${(err as Error).message}\n`);
      return 1;
    }
  };
}

const openMetricsCommand: Command = {
  name: 'openmetrics',
  help:
    'Write a deterministic, realistic data set (node_exporter and HTTP service shape: counters with resets, gauges, a classic histogram) ' +
    'as OpenMetrics text with timestamps, ready for `tessera tools tsdb create-blocks-from openmetrics` or promtool. ' +
    'Native histograms need `tools gen blocks`: the OpenMetrics text format cannot carry them.',
  flags: { ...dataSetFlags, out: { type: 'string', help: 'Write here instead of stdout.' } },
  run: reportErrors(async (ctx) => {
    if (ctx.positionals.length > 0) throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
    const ds = new DataSet(dataSetOptions(ctx));
    const file = flagString(ctx, 'out');
    const stats = file === '' ? await writeOpenMetrics(ds, ctx.stdout) : await writeOpenMetricsFile(ds, file);
    ctx.stderr.write(`series=${stats.series} samples=${stats.samples} from=${stats.firstMs} to=${stats.lastMs} replica=${ds.replica}\n`);
  }),
};

const blocksCommand: Command = {
  name: 'blocks',
  help: 'Write the same data set straight to 2h TSDB blocks with our block writer, with native histograms unless --no-native-histograms.',
  args: '<out-dir>',
  flags: { ...dataSetFlags, 'no-native-histograms': { type: 'boolean', help: 'Leave out the native histograms.' } },
  run: reportErrors(async (ctx) => {
    if (ctx.positionals.length !== 1) throw new UsageError('expected one <out-dir>');
    const ds = new DataSet({ ...dataSetOptions(ctx), nativeHistograms: !flagBool(ctx, 'no-native-histograms') });
    for (const b of await writeDataSetBlocks(ds, ctx.positionals[0]!)) {
      const s = b.meta.stats;
      ctx.stdout.write(`${b.ulid} mint=${b.meta.minTime} maxt=${b.meta.maxTime} series=${s.numSeries ?? 0} samples=${s.numSamples ?? 0} histogram_samples=${s.numHistogramSamples ?? 0}\n`);
    }
  }),
};

/** toolsGenCommand groups the data generators (`tools gen openmetrics|blocks`). */
export const toolsGenCommand: Command = {
  name: 'gen',
  help: 'Generate realistic test, demo and load-test data.',
  subcommands: [openMetricsCommand, blocksCommand],
};
