import { describe, expect, test } from 'vitest';
import { floatBits } from '../../chunkenc/index.js';
import { OpenMetricsParseError, OpenMetricsParser, parseGoFloat, parseOpenMetrics, type OpenMetricsBatch } from './openmetrics-parser.js';

function parseAll(text: string, split = 0): OpenMetricsBatch[] {
  const p = new OpenMetricsParser({ file: 'in.om', batchSize: 2 });
  const out: OpenMetricsBatch[] = [];
  if (split > 0) for (let i = 0; i < text.length; i += split) out.push(...p.push(text.slice(i, i + split)));
  else out.push(...p.push(text));
  out.push(...p.end());
  return out;
}

function rows(batches: OpenMetricsBatch[]): [string, number, number, number][] {
  const r: [string, number, number, number][] = [];
  for (const b of batches) for (let i = 0; i < b.length; i++) r.push([b.labels[i]!.toString(), b.values[i]!, b.timestamps[i]!, b.lines[i]!]);
  return r;
}

const doc =
  '# HELP http_requests_total Requests\\n served.\n# TYPE http_requests_total counter\n# UNIT http_requests_total requests\n' +
  'http_requests_total{code="200",method="get"} 1027 1395066363.000\n' +
  'http_requests_total{method="post",code="400"} 3 1395066363.5 # {trace_id="x"} 1 1395066363\n' +
  'up 1\n' +
  'esc{a="x\\"y\\\\z\\nw"} +Inf 1.001\n' +
  '# EOF\n';

describe('OpenMetricsParser', () => {
  test('samples, metadata, sorted labels, ms timestamps, exemplars skipped', () => {
    const p = new OpenMetricsParser();
    const got = rows([...p.push(doc), ...p.end()]);
    expect(got).toEqual([
      ['{__name__="http_requests_total", code="200", method="get"}', 1027, 1395066363000, 4],
      ['{__name__="http_requests_total", code="400", method="post"}', 3, 1395066363500, 5],
      ['{__name__="up"}', 1, NaN, 6],
      // Go's int64(1.001 * 1000) truncates 1000.9999999999999 to 1000, and so do we.
      ['{__name__="esc", a="x\\"y\\\\z\\nw"}', Infinity, 1000, 7],
    ]);
    expect(p.metadata.get('http_requests_total')).toEqual({ help: 'Requests\n served.', type: 'counter', unit: 'requests' });
  });

  test('any split of the input gives the same result', () => {
    const whole = rows(parseAll(doc));
    for (const split of [1, 2, 3, 7, 50]) expect(rows(parseAll(doc, split))).toEqual(whole);
  });

  test('NaN parses to Go math.NaN() bits; repeated series share Labels', () => {
    const b = parseAll('a NaN 1\na 2 2\n# EOF\n');
    floatBits.f64[0] = b[0]!.values[0]!;
    expect([floatBits.u32[floatBits.HI], floatBits.u32[floatBits.LO]]).toEqual([0x7ff80000, 1]);
    expect(b[0]!.labels[0]).toBe(b[0]!.labels[1]);
  });

  test.each([
    ['a 1 1\n', 2, /expected "# EOF"/],
    ['a 1 1\n# EOF\na 2 2\n', 3, /unexpected data after "# EOF"/],
    ['a 1 1\n\n# EOF\n', 2, /empty line/],
    ['# TYPE a countr\n# EOF\n', 1, /invalid metric type "countr"/],
    ['# hello\n# EOF\n', 1, /invalid comment/],
    ['a{b="c} 1\n# EOF\n', 1, /unterminated label set/],
    ['a{b=c} 1\n# EOF\n', 1, /expected a quoted value/],
    ['a{1b="c"} 1\n# EOF\n', 1, /invalid label name "1b"/],
    ['a{b="c",b="d"} 1\n# EOF\n', 1, /duplicate label name b/],
    ['a{b="\\t"} 1\n# EOF\n', 1, /invalid escape/],
    ['a one\n# EOF\n', 1, /invalid value "one"/],
    ['a 1 soon\n# EOF\n', 1, /invalid timestamp "soon"/],
    ['a 1 2 3\n# EOF\n', 1, /expected "value \[timestamp\]"/],
    ['a\n# EOF\n', 1, /expected a space and a value/],
    ['1a 1\n# EOF\n', 1, /invalid metric name "1a"/],
    ['a 1\n# EOF', 0, null],
  ])('%j fails at line %d', (text, line, re) => {
    if (re === null) {
      expect(rows(parseAll(text))).toHaveLength(1);
      return;
    }
    try {
      parseAll(text);
      expect.fail('no error');
    } catch (err) {
      expect(err).toBeInstanceOf(OpenMetricsParseError);
      expect((err as OpenMetricsParseError).line).toBe(line);
      expect((err as Error).message).toMatch(new RegExp(`in\\.om line ${line}: `));
      expect((err as Error).message).toMatch(re);
    }
  });

  test('parseGoFloat accepts Go spellings', () => {
    expect(parseGoFloat('1e3')).toBe(1000);
    expect(parseGoFloat('-inf')).toBe(-Infinity);
    expect(parseGoFloat('+Inf')).toBe(Infinity);
    expect(parseGoFloat('.5')).toBe(0.5);
    expect(parseGoFloat('0x10')).toBeUndefined();
    expect(parseGoFloat('')).toBeUndefined();
  });

  test('streams bytes split inside multi-byte characters', async () => {
    const bytes = new TextEncoder().encode('a{b="ünïcødé"} 1 1\n# EOF\n');
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
    }
    const out: OpenMetricsBatch[] = [];
    for await (const b of parseOpenMetrics(chunks())) out.push(b);
    expect(rows(out)).toEqual([['{__name__="a", b="ünïcødé"}', 1, 1000, 1]]);
  });
});
