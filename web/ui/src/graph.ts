import uPlot from 'uplot';
import { colour, metricString, type Metric } from './format.js';

/** MatrixSeries is one series of a range query result. */
export interface MatrixSeries {
  metric: Metric;
  values?: [number, string][];
  histograms?: unknown[];
}

const maxSeries = 200;

/**
 * drawGraph renders a range query result with uPlot: a time axis, a legend with hover values, and
 * optionally stacked areas. It returns the plot so the caller can destroy it on the next run.
 */
export function drawGraph(parent: HTMLElement, series: MatrixSeries[], startS: number, endS: number, stepS: number, stacked: boolean): uPlot | undefined {
  const shown = series.filter((s) => (s.values?.length ?? 0) > 0).slice(0, maxSeries);
  if (shown.length === 0) {
    parent.textContent = series.length > 0 ? 'No float samples to graph (native histograms are shown in the table).' : 'Empty query result.';
    return undefined;
  }
  const n = Math.floor((endS - startS) / stepS) + 1;
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) xs[i] = startS + i * stepS;
  const index = (t: number) => Math.round((t - startS) / stepS);
  const raw: (number | null)[][] = shown.map((s) => {
    const ys: (number | null)[] = new Array<number | null>(n).fill(null);
    for (const [t, v] of s.values ?? []) {
      const i = index(t);
      const f = Number(v);
      if (i >= 0 && i < n && Number.isFinite(f)) ys[i] = f;
    }
    return ys;
  });
  let data: (number | null)[][] = raw;
  if (stacked) {
    const acc = new Array<number>(n).fill(0);
    data = raw.map((ys) =>
      ys.map((v, i) => {
        if (v === null) return null;
        acc[i] = (acc[i] ?? 0) + v;
        return acc[i] ?? null;
      }),
    );
  }
  const width = Math.max(300, parent.clientWidth || 900);
  const opts: uPlot.Options = {
    width,
    height: 380,
    cursor: { drag: { x: true, y: false }, focus: { prox: 16 } },
    focus: { alpha: 0.3 },
    legend: { live: true },
    // Stacked areas start at zero, so each band's height reads as its series' value.
    scales: { x: { time: true }, ...(stacked ? { y: { range: (_u: uPlot, _min: number, max: number) => [0, max > 0 ? max * 1.05 : 1] as uPlot.Range.MinMax } } : {}) },
    axes: [{ grid: { stroke: '#eee' } }, { grid: { stroke: '#eee' }, size: 70 }],
    series: [
      { label: 'Time', value: (_u, v) => (v === null ? '' : new Date(v * 1000).toISOString().replace('T', ' ').slice(0, 19)) },
      ...shown.map((s, i) => ({
        label: metricString(s.metric),
        stroke: colour(i),
        width: 1.5,
        spanGaps: false,
        points: { show: false },
        ...(stacked ? { fill: colour(i) + '55' } : {}),
        // Hover shows the series' own value, also when stacked.
        value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => {
          const r = idx === null ? null : (raw[i]?.[idx] ?? null);
          return r === null ? '–' : String(r);
        },
      })),
    ],
  };
  if (stacked) {
    // Fill each band down to the series below it, not to the axis.
    opts.bands = shown.slice(1).map((_s, i) => ({ series: [i + 2, i + 1] as [number, number] }));
  }
  parent.textContent = '';
  return new uPlot(opts, [Array.from(xs), ...data] as uPlot.AlignedData, parent);
}
