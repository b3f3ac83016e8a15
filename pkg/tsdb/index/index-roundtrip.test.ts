import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { compareStrings, Labels, Matcher, MatchType, matchesAll } from '../../labels/index.js';
import { BufferByteSource, FileByteSource } from './byte-source.js';
import { MemoryByteSink } from './byte-sink.js';
import type { IndexChunkMeta } from './format.js';
import { IndexReader } from './index-reader.js';
import { IndexWriter } from './index-writer.js';
import { literalPrefix, postingsForMatchers } from './postings-for-matchers.js';
import { expandPostings } from './postings.js';

/** A deterministic set of series with varied label sets (some labels absent on some series). */
function makeSeries(n: number): { lset: Labels; chunks: IndexChunkMeta[] }[] {
  const out: Labels[] = [];
  for (let i = 0; i < n; i++) {
    const kv: string[] = ['__name__', `metric_${i % 7}`, 'instance', `host-${i % 13}`, 'job', i % 3 === 0 ? 'api' : 'node'];
    if (i % 4 === 0) kv.push('mode', ['idle', 'user', 'system', ''][i % 16 / 4]!);
    if (i % 5 === 0) kv.push('path', `/a/${i % 10}`);
    if (i % 11 === 0) kv.push('ünïcode', 'välue-☃');
    kv.push('uid', String(i));
    out.push(Labels.fromStrings(...kv));
  }
  out.sort(Labels.compare);
  let ref = 8;
  return out.map((lset, i) => {
    const chunks: IndexChunkMeta[] = [];
    let t = -5000 + i * 7;
    for (let c = 0; c < i % 5; c++) {
      const mint = t + 1 + c;
      const maxt = mint + 1000 * c;
      chunks.push({ ref, minTime: mint, maxTime: maxt });
      ref += 50 + c;
      t = maxt;
    }
    if (i === n - 1) chunks.push({ ref: 3 * 2 ** 32 + 8, minTime: 2 ** 45, maxTime: 2 ** 45 + 5 });
    return { lset, chunks };
  });
}

function writeIndex(series: { lset: Labels; chunks: IndexChunkMeta[] }[], withEmptySymbol = true): Uint8Array {
  const syms = new Set<string>(withEmptySymbol ? [''] : []);
  for (const s of series) s.lset.forEach((n, v) => (syms.add(n), syms.add(v)));
  const sink = new MemoryByteSink();
  const w = new IndexWriter(sink, 'test-index');
  for (const s of [...syms].sort(compareStrings)) w.addSymbol(s);
  for (const s of series) w.addSeries(s.lset, s.chunks);
  w.close();
  return sink.bytes().slice();
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('IndexWriter → IndexReader round trip', () => {
  const series = makeSeries(600);
  const bytes = writeIndex(series);
  const path = join(dir, 'index');
  writeFileSync(path, bytes);

  for (const [kind, open] of [
    ['buffer', () => IndexReader.open(new BufferByteSource(bytes, 'mem'))],
    ['file', () => IndexReader.open(FileByteSource.open(path))],
  ] as const) {
    test(`reads back symbols, label values, postings and series (${kind} source)`, () => {
      const r = open();
      try {
        const syms = new Set<string>(['']);
        for (const s of series) s.lset.forEach((n, v) => (syms.add(n), syms.add(v)));
        expect([...r.symbols()]).toEqual([...syms].sort(compareStrings));
        const names = new Set<string>();
        for (const s of series) s.lset.forEach((n) => names.add(n));
        expect(r.labelNames()).toEqual([...names].sort(compareStrings));
        for (const name of names) {
          const vals = new Set(series.map((s) => s.lset.get(name)).filter((v) => v !== ''));
          expect(r.labelValues(name)).toEqual([...vals].sort(compareStrings));
        }
        const all = expandPostings(r.allPostings());
        expect(all.length).toBe(series.length);
        for (let i = 0; i < all.length; i++) {
          expect(all[i]! % 1).toBe(0);
          const chunks: IndexChunkMeta[] = [];
          expect(r.series(all[i]!, chunks).equals(series[i]!.lset)).toBe(true);
          expect(chunks).toEqual(series[i]!.chunks);
        }
        const inst = expandPostings(r.postings('instance', 'host-3'));
        expect(inst).toEqual(all.filter((_, i) => series[i]!.lset.get('instance') === 'host-3'));
        expect(expandPostings(r.postings('instance', 'host-3', 'nope', 'host-1'))).toEqual(
          all.filter((_, i) => ['host-1', 'host-3'].includes(series[i]!.lset.get('instance'))),
        );
      } finally {
        r.close();
      }
    });
  }

  test('layout: magic, version, 16-byte aligned series, lists stored in offset-table order, TOC', () => {
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    expect(v.getUint32(0)).toBe(0xbaaad700);
    expect(bytes[4]).toBe(2);
    const r = IndexReader.open(new BufferByteSource(bytes));
    expect(r.toc.symbols).toBe(5);
    expect(r.toc.labelIndicesTable).toBe(r.toc.postingsTable);
    expect(expandPostings(r.allPostings()).every((ref) => (ref * 16) % 16 === 0 && ref * 16 >= r.toc.series)).toBe(true);
    // Thanos derives list k's range from entry k+1's offset: every list must end exactly there.
    let prevEnd = -1;
    for (const name of ['', ...r.labelNames()]) {
      for (const value of name === '' ? [''] : r.labelValues(name)) {
        const rg = r.postingsRange(name, value)!;
        const len = v.getUint32(rg.start);
        expect(rg.start + 4 + len + 4).toBe(rg.end);
        if (prevEnd >= 0) expect(rg.start).toBe(prevEnd);
        prevEnd = rg.end;
      }
    }
    expect(prevEnd).toBe(r.toc.postingsTable);
  });

  test('writer rejects misuse', () => {
    const w = new IndexWriter(new MemoryByteSink());
    w.addSymbol('a');
    expect(() => w.addSymbol('a')).toThrow(/not greater/);
    w.addSymbol('b');
    w.addSeries(Labels.fromStrings('a', 'b'), []);
    expect(() => w.addSeries(Labels.fromStrings('a', 'a'), [])).toThrow(/not a symbol|out of order/);
    expect(() => w.addSeries(Labels.fromStrings('a', 'b'), [])).toThrow(/out of order/);
    expect(() =>
      w.addSeries(Labels.fromStrings('b', 'a'), [
        { ref: 8, minTime: 0, maxTime: 10 },
        { ref: 20, minTime: 10, maxTime: 20 },
      ]),
    ).toThrow(/overlaps/);
  });
});

describe('postingsForMatchers semantics', () => {
  const series = makeSeries(300);
  const r = IndexReader.open(new BufferByteSource(writeIndex(series)));
  const refs = expandPostings(r.allPostings());
  const m = (t: MatchType, n: string, v: string): Matcher => new Matcher(t, n, v);
  const { Equal: EQ, NotEqual: NEQ, Regexp: RE, NotRegexp: NRE } = MatchType;

  // Expected results come from brute force: Matcher.matches on every series' value ('' if absent).
  const cases: [string, Matcher[]][] = [
    ['equal', [m(EQ, 'job', 'api')]],
    ['equal absent value', [m(EQ, 'job', 'nope')]],
    ['equal empty = label absent', [m(EQ, 'mode', '')]],
    ['not equal', [m(NEQ, 'job', 'api')]],
    ['not equal on absent label keeps series without it', [m(NEQ, 'mode', 'idle')]],
    ['not equal empty = label present', [m(NEQ, 'mode', '')]],
    ['regexp', [m(RE, 'instance', 'host-1.*')]],
    ['regexp set fast path', [m(RE, 'instance', 'host-1|host-2|nope')]],
    ['regexp matching empty', [m(RE, 'mode', 'idle|')]],
    ['regexp .*', [m(RE, 'mode', '.*')]],
    ['regexp .+', [m(RE, 'mode', '.+')]],
    ['not regexp', [m(NRE, 'instance', 'host-1.*')]],
    ['not regexp set', [m(NRE, 'mode', 'idle|user')]],
    ['not regexp matching empty', [m(NRE, 'mode', '|idle')]],
    ['not regexp .+ = label absent', [m(NRE, 'mode', '.+')]],
    ['combination', [m(EQ, '__name__', 'metric_3'), m(NEQ, 'job', 'node'), m(RE, 'instance', 'host-(1|2|3)')]],
    ['combination with absent labels', [m(EQ, 'job', 'node'), m(EQ, 'path', ''), m(NRE, 'mode', 'user')]],
    ['only subtractions', [m(NEQ, 'job', 'api'), m(NRE, 'instance', 'host-1.*')]],
    ['must-be-set with negation', [m(RE, 'mode', '.+'), m(NEQ, 'mode', 'idle')]],
    ['unknown label equal', [m(EQ, 'nolabel', 'x')]],
    ['unknown label not equal', [m(NEQ, 'nolabel', 'x'), m(EQ, 'job', 'api')]],
    ['unicode', [m(EQ, 'ünïcode', 'välue-☃')]],
    ['contradiction', [m(EQ, 'job', 'api'), m(EQ, 'job', 'node')]],
  ];
  test.each(cases)('%s', (_name, ms) => {
    const want = refs.filter((_, i) => matchesAll(ms, (n) => series[i]!.lset.get(n)));
    const got = expandPostings(postingsForMatchers(r, ms));
    expect(got).toEqual(want);
    if (_name !== 'contradiction' && !_name.startsWith('unknown label equal') && _name !== 'equal absent value') expect(got.length).toBeGreaterThan(0);
  });
});

describe('literalPrefix', () => {
  test.each([
    ['host-1.*', 'host-1'],
    ['host-00[0-4].*', 'host-00'],
    ['abc?', 'ab'],
    ['abc*', 'ab'],
    ['abc+', 'abc'],
    ['ab{0,2}', 'a'],
    ['a|b', ''],
    ['(?i)abc', ''],
    ['.*', ''],
    ['foo', 'foo'],
  ])('%s → %s', (re, want) => {
    expect(literalPrefix(re)).toBe(want);
    // Soundness: every string the regexp matches starts with the prefix.
    const m = new Matcher(MatchType.Regexp, 'x', re);
    for (const s of ['', 'a', 'ab', 'abc', 'abcc', 'host-1', 'host-12', 'host-003', 'foo', 'b', 'ABC']) if (m.matches(s)) expect(s.startsWith(want)).toBe(true);
  });
});
