import { describe, expect, test } from 'vitest';
import { parseDuration, stateFromUrl, urlFromState } from './url-state.js';

describe('Prometheus and Thanos link parameters', () => {
  test('Prometheus 2 / Thanos: g0.tab=0 is the graph, 1 the table', () => {
    const s = stateFromUrl(new URLSearchParams('g0.expr=up&g0.tab=0&g0.range_input=6h&g0.step_input=30&g0.stacked=1&g0.deduplicate=0&g0.partial_response=0&g0.max_source_resolution=1h'));
    expect(s).toMatchObject({ expr: 'up', tab: 'graph', range: '6h', resolution: 30, stacked: true, dedup: false, partialResponse: false, maxSourceResolution: '1h' });
    expect(stateFromUrl(new URLSearchParams('g0.expr=up&g0.tab=1')).tab).toBe('table');
  });

  test('Prometheus 3: g0.tab=graph|table and display_mode=stacked', () => {
    expect(stateFromUrl(new URLSearchParams('g0.expr=up&g0.tab=table')).tab).toBe('table');
    const s = stateFromUrl(new URLSearchParams('g0.expr=up&g0.tab=graph&g0.display_mode=stacked&g0.range_input=2d'));
    expect(s).toMatchObject({ tab: 'graph', stacked: true, range: '2d' });
  });

  test('end times without a zone are UTC, as Prometheus writes them', () => {
    expect(stateFromUrl(new URLSearchParams('g0.end_input=2026-01-02 03:04:05')).end).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(stateFromUrl(new URLSearchParams('g0.end_input=1700000000')).end).toBe(1_700_000_000_000);
  });

  test('bad ranges fall back to the default; a link round-trips', () => {
    expect(stateFromUrl(new URLSearchParams('g0.range_input=soon')).range).toBe('1h');
    const s = stateFromUrl(new URLSearchParams('g0.expr=rate(x[5m])&g0.tab=0&g0.range_input=30m&g0.end_input=2026-01-02T03:04:05.000Z'));
    expect(stateFromUrl(new URLSearchParams(urlFromState(s)))).toEqual(s);
  });

  test('durations', () => {
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration('1x')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
  });
});
