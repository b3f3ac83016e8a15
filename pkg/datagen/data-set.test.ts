import { describe, expect, test } from 'vitest';
import { DataSet, type FamilyGroup } from './data-set.js';
import { DataGenError } from './datagen-error.js';

function all(ds: DataSet): FamilyGroup[] {
  return [...ds.families()];
}

function floatsByKey(ds: DataSet): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const g of ds.families()) for (const s of g.floats) m.set(s.labels.toString(), s.values);
  return m;
}

describe('DataSet', () => {
  const a = new DataSet({ hosts: 3, hours: 4, nativeHistograms: true });
  const b = new DataSet({ hosts: 3, hours: 4, replica: 'b', nativeHistograms: true });

  test('is deterministic and depends on the seed', () => {
    const again = floatsByKey(new DataSet({ hosts: 3, hours: 4 }));
    const first = floatsByKey(a);
    expect([...again.keys()]).toEqual([...first.keys()]);
    for (const [k, v] of first) expect(again.get(k), k).toEqual(v);
    const other = floatsByKey(new DataSet({ hosts: 3, hours: 4, seed: 7 }));
    expect(other.get('{__name__="node_cpu_seconds_total", cpu="0", instance="host-0000:9100", job="node", mode="idle"}')).not.toEqual(
      first.get('{__name__="node_cpu_seconds_total", cpu="0", instance="host-0000:9100", job="node", mode="idle"}'),
    );
  });

  test('has the documented families and about 75 series per host', () => {
    const groups = all(a);
    expect([...new Set(groups.map((g) => g.name))]).toEqual([
      'node_cpu_seconds_total',
      'node_memory_MemAvailable_bytes',
      'node_load1',
      'node_network_receive_bytes_total',
      'up',
      'http_requests_total',
      'http_request_duration_seconds',
    ]);
    expect(groups.reduce((n, g) => n + g.floats.length, 0)).toBe(3 * 72);
    expect(groups.reduce((n, g) => n + g.histograms.length, 0)).toBe(3 * 3);
    expect(all(new DataSet({ hosts: 1, hours: 1 })).reduce((n, g) => n + g.histograms.length, 0)).toBe(0);
  });

  test('replica b has the same values, scrapes 250–649 ms later and misses 10 minutes halfway', () => {
    const va = floatsByKey(a);
    const vb = floatsByKey(b);
    for (const [k, v] of va) expect(vb.get(k), k).toEqual(v);
    expect(a.gap).toBeUndefined();
    expect(b.gap).toEqual({ fromMs: a.startMs + 480 * 15_000, toMs: a.startMs + 520 * 15_000 });
    let missed = 0;
    for (let i = 0; i < a.steps; i++) {
      const ta = a.timestamps[i]!;
      const tb = b.timestamps[i]!;
      expect(ta).toBe(a.startMs + i * 15_000);
      if (Number.isNaN(tb)) {
        missed++;
        expect(ta >= b.gap!.fromMs && ta < b.gap!.toMs).toBe(true);
      } else {
        expect(tb - ta).toBeGreaterThanOrEqual(250);
        expect(tb - ta).toBeLessThan(650);
      }
    }
    expect(missed).toBe(40);
    expect(a.endMs).toBe(a.startMs + 4 * 3600_000);
  });

  test('counters only go down at process or interface restarts, and some do', () => {
    let resets = 0;
    const resetSeries = new Set<string>();
    for (const g of a.families()) {
      if (g.type === 'gauge') continue;
      for (const s of g.floats) {
        for (let i = 1; i < s.values.length; i++) {
          if (s.values[i]! < s.values[i - 1]!) {
            resets++;
            resetSeries.add(`${s.labels.get('__name__')} ${s.labels.get('instance')}`);
          }
        }
      }
    }
    expect(resets).toBeGreaterThan(0);
    expect(resetSeries).toContain('node_network_receive_bytes_total host-0000:9100');
    expect(resetSeries).toContain('http_requests_total host-0001:9100');
    expect(resetSeries).toContain('http_request_duration_seconds_count host-0001:9100');
    expect([...resetSeries].every((s) => s.endsWith('host-0000:9100') || s.endsWith('host-0001:9100'))).toBe(true);
  });

  test('classic buckets are cumulative, +Inf is _count, and the native histogram agrees', () => {
    const g = all(a).find((x) => x.name === 'http_request_duration_seconds' && x.floats[0]!.labels.get('instance') === 'host-0002:9100')!;
    const perHandler = 14;
    for (let hnd = 0; hnd < 3; hnd++) {
      const series = g.floats.slice(hnd * perHandler, (hnd + 1) * perHandler);
      expect(series.map((s) => s.labels.get('le'))).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf', '', '']);
      expect(series[12]!.labels.get('__name__')).toBe('http_request_duration_seconds_count');
      expect(series[13]!.labels.get('__name__')).toBe('http_request_duration_seconds_sum');
      const native = g.histograms[hnd]!;
      expect(native.labels.get('handler')).toBe(series[0]!.labels.get('handler'));
      for (let i = 0; i < a.steps; i++) {
        for (let le = 1; le < 12; le++) expect(series[le]!.values[i]!).toBeGreaterThanOrEqual(series[le - 1]!.values[i]!);
        expect(series[11]!.values[i]).toBe(series[12]!.values[i]);
        const h = a.histogramAt(native, i);
        expect(h.count).toBe(series[12]!.values[i]);
        expect(h.sum).toBe(series[13]!.values[i]);
        expect(h.positiveBuckets.reduce((x, y) => x + y, 0)).toBe(h.count);
        expect(h.positiveSpans).toEqual([{ offset: native.offset, length: native.length }]);
      }
      // Most requests of the median-80ms handler are under 250ms, not all under 5ms.
      const last = a.steps - 1;
      expect(series[0]!.values[last]!).toBeLessThan(series[11]!.values[last]! / 2);
    }
  });

  test('rejects options that describe no data set', () => {
    expect(() => new DataSet({ hosts: 0 })).toThrow(DataGenError);
    expect(() => new DataSet({ intervalSec: 0.5 })).toThrow(/interval/);
    expect(() => new DataSet({ hours: 0 })).toThrow(/hours/);
    expect(() => new DataSet({ hours: 0.001, intervalSec: 60 })).toThrow(/no scrape/);
  });
});
