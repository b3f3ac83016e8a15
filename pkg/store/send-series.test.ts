import { describe, expect, it } from 'vitest';
import { Labels } from '../labels/index.js';
import type { StoreSeries } from '../storepb/index.js';
import { sendSeries } from './send-series.js';
import { SeriesFrameWriter } from './series-frame-writer.js';
import type { SeriesSink } from './store-api.js';

function collect(): { sink: SeriesSink; names: string[] } {
  const names: string[] = [];
  const sink = {
    send(f: { kind: string; series?: StoreSeries }) {
      if (f.kind === 'series') names.push(f.series!.labels.get('n'));
      return undefined;
    },
  } as unknown as SeriesSink;
  return { sink, names };
}

const series = ['a', 'b', 'b', 'c'].map((n): StoreSeries => ({ labels: Labels.fromStrings('n', n), chunks: [] }));

describe('sendSeries', () => {
  it('sends every series without a limit', async () => {
    const { sink, names } = collect();
    await sendSeries(new SeriesFrameWriter(sink, 0), series, 0, new AbortController().signal);
    expect(names).toEqual(['a', 'b', 'b', 'c']);
  });

  it('counts consecutive equal label sets once against the limit', async () => {
    const { sink, names } = collect();
    await sendSeries(new SeriesFrameWriter(sink, 0), series, 2, new AbortController().signal);
    expect(names).toEqual(['a', 'b', 'b']);
  });

  it('stops with the abort reason', async () => {
    const { sink } = collect();
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(sendSeries(new SeriesFrameWriter(sink, 0), series, undefined, ac.signal)).rejects.toThrow('stop');
  });
});
