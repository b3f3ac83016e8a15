import { ValueType, type SampleIterator } from '../../chunkenc/index.js';
import { CounterResetHint, FloatHistogram } from '../../histogram/index.js';
import { detectReset } from '../engine/histogram-ops.js';
import { Labels, matchesAll, type Matcher } from '../../labels/index.js';
import { ArraySeriesSet, type LabelResult, type Querier, type Queryable, type Series, type SeriesSet, type SelectHints } from '../../storage/index.js';

/** MemorySeries holds one series' samples; floats live in a Float64Array so stale NaNs survive. */
class MemorySeries implements Series {
  readonly #labels: Labels;
  ts: number[] = [];
  fs = new Float64Array(16);
  hs: (FloatHistogram | undefined)[] = [];
  n = 0;

  constructor(labels: Labels) {
    this.#labels = labels;
  }

  labels(): Labels {
    return this.#labels;
  }

  /** append adds a sample; samples must come in increasing time order (a same-time sample replaces). */
  append(t: number, f: number, h: FloatHistogram | undefined): void {
    if (h !== undefined && h.counterResetHint !== CounterResetHint.Gauge && this.n > 0 && this.ts[this.n - 1]! < t) {
      // Emulate the TSDB head: a histogram following a histogram in the same chunk is marked
      // NotCounterReset, or starts a new chunk marked CounterReset when a reset is detected.
      const prev = this.hs[this.n - 1];
      h = h.copy();
      if (prev === undefined || prev.counterResetHint === CounterResetHint.Gauge) h.counterResetHint = CounterResetHint.Unknown;
      // A detected reset reads back as unknown (prometheus/prometheus#15346); an explicit reset hint stays.
      else if (h.counterResetHint === CounterResetHint.CounterReset) h.counterResetHint = CounterResetHint.CounterReset;
      else h.counterResetHint = detectReset(prev, h) ? CounterResetHint.Unknown : CounterResetHint.NotCounterReset;
    } else if (h !== undefined && h.counterResetHint !== CounterResetHint.Gauge && this.n === 0) {
      h = h.copy();
      h.counterResetHint = CounterResetHint.Unknown;
    }
    if (this.n > 0 && this.ts[this.n - 1]! >= t) {
      // Out of order: insert at the right place.
      let i = this.n - 1;
      while (i >= 0 && this.ts[i]! > t) i--;
      if (i >= 0 && this.ts[i] === t) {
        this.fs[i] = f;
        this.hs[i] = h;
        return;
      }
      this.#grow();
      this.fs.copyWithin(i + 2, i + 1, this.n);
      this.fs[i + 1] = f;
      this.ts.splice(i + 1, 0, t);
      this.hs.splice(i + 1, 0, h);
      this.n++;
      return;
    }
    this.#grow();
    this.ts.push(t);
    this.fs[this.n] = f;
    this.hs.push(h);
    this.n++;
  }

  #grow(): void {
    if (this.n + 1 < this.fs.length) return;
    const b = new Float64Array(this.fs.length * 2);
    b.set(this.fs);
    this.fs = b;
  }

  iterator(reuse?: SampleIterator): SampleIterator {
    if (reuse instanceof MemoryIterator) {
      reuse.reset(this);
      return reuse;
    }
    return new MemoryIterator(this);
  }
}

class MemoryIterator implements SampleIterator {
  #s: MemorySeries;
  #i = -1;
  readonly #scratch = new FloatHistogram();

  constructor(s: MemorySeries) {
    this.#s = s;
  }

  reset(s: MemorySeries): void {
    this.#s = s;
    this.#i = -1;
  }

  #type(): ValueType {
    if (this.#i >= this.#s.n) return ValueType.None;
    return this.#s.hs[this.#i] !== undefined ? ValueType.FloatHistogram : ValueType.Float;
  }

  next(): ValueType {
    if (this.#i < this.#s.n) this.#i++;
    return this.#type();
  }

  seek(t: number): ValueType {
    if (this.#i < 0) this.#i = 0;
    while (this.#i < this.#s.n && this.#s.ts[this.#i]! < t) this.#i++;
    return this.#type();
  }

  atT(): number {
    return this.#s.ts[this.#i]!;
  }

  atF(): number {
    return this.#s.fs[this.#i]!;
  }

  atFloatHistogram(into?: FloatHistogram): FloatHistogram {
    const h = this.#s.hs[this.#i];
    if (h === undefined) throw new RangeError('atFloatHistogram called on a float sample');
    return (into ?? this.#scratch).copyFrom(h);
  }

  err(): null {
    return null;
  }
}

/**
 * MemoryStorage is an in-memory Queryable for PromQL test scripts: series keyed by labels,
 * selected by matchers, sorted by labels.
 */
export class MemoryStorage implements Queryable {
  readonly #series = new Map<string, MemorySeries>();

  /** append adds one sample (a histogram when h is given) to the series with labels l. */
  append(l: Labels, t: number, f: number, h?: FloatHistogram): void {
    const k = l.key();
    let s = this.#series.get(k);
    if (s === undefined) {
      s = new MemorySeries(l);
      this.#series.set(k, s);
    }
    s.append(t, f, h);
  }

  /** clear drops all series. */
  clear(): void {
    this.#series.clear();
  }

  async querier(_mint: number, _maxt: number): Promise<Querier> {
    const all = [...this.#series.values()];
    const labelResult = (values: string[]): LabelResult => ({ values: [...new Set(values)].sort(), warnings: [] });
    const matching = (ms: readonly Matcher[]): MemorySeries[] => all.filter((s) => matchesAll(ms, (n) => s.labels().get(n)));
    return {
      async select(_sort: boolean, _hints: SelectHints | undefined, matchers: readonly Matcher[]): Promise<SeriesSet> {
        const found = matching(matchers).sort((a, b) => Labels.compare(a.labels(), b.labels()));
        return new ArraySeriesSet<Series>(found);
      },
      async labelValues(name: string, matchers: readonly Matcher[]): Promise<LabelResult> {
        return labelResult(matching(matchers).map((s) => s.labels().get(name)).filter((v) => v !== ''));
      },
      async labelNames(matchers: readonly Matcher[]): Promise<LabelResult> {
        return labelResult(matching(matchers).flatMap((s) => s.labels().names()));
      },
      async close(): Promise<void> {},
    };
  }
}
