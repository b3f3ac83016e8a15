import { describe, expect, test } from 'vitest';
import { isStaleNaN } from '../engine/stale.js';
import { parseSeriesDesc } from './series-desc.js';
import { parseScript } from './script.js';

describe('parseSeriesDesc', () => {
  test.each([
    ['m 1+2x3', [1, 3, 5, 7]],
    ['m 1-1x2', [1, 0, -1]],
    ['m 0+0x2', [0, 0, 0]],
    ['m 5x2', [5, 5, 5]],
    ['m Inf -Inf', [Infinity, -Infinity]],
  ])('%s expands', (line, want) => {
    expect(parseSeriesDesc(line).values.map((v) => v.value)).toEqual(want);
  });

  test('omitted values, stale markers and labels', () => {
    const d = parseSeriesDesc('foo{a="b", "c.d"="e\\n"} _ _x2 stale 1');
    expect(d.labels.toString()).toBe('{__name__="foo", a="b", "c.d"="e\\n"}');
    expect(d.values.map((v) => v.omitted)).toEqual([true, true, true, false, false]);
    expect(isStaleNaN(d.values[3]!.value)).toBe(true);
  });

  test('native histogram notation with repeat and increment', () => {
    const d = parseSeriesDesc('h {{schema:1 sum:2 count:3 buckets:[1 2] offset:-1 counter_reset_hint:gauge}}+{{sum:1 count:1}}x1');
    expect(d.values).toHaveLength(2);
    const [a, b] = d.values.map((v) => v.histogram!);
    expect(a!.positiveSpans).toEqual([{ offset: -1, length: 2 }]);
    expect(d.values[0]!.counterResetHintSet).toBe(true);
    expect(b!.count).toBe(4);
    expect(b!.sum).toBe(3);
  });
});

describe('parseScript', () => {
  test('commands, expectations and ranges', () => {
    const cmds = parseScript(
      ['load 5m', '  m{a="1"} 1 2', '', 'eval range from 0 to 10m step 5m m', '  expect warn msg: x (1:1)', '  m{a="1"} 1 2 _', '', 'clear', 'eval_fail instant at 1m m'].join('\n'),
    );
    expect(cmds.map((c) => c.kind)).toEqual(['load', 'eval', 'clear', 'eval']);
    const ev = cmds[1]!;
    if (ev.kind !== 'eval') throw new Error('not eval');
    expect([ev.start, ev.end, ev.step, ev.isRange]).toEqual([0, 600_000, 300_000, true]);
    expect(ev.expectWarn).toEqual([{ message: 'x (1:1)' }]);
    const f = cmds[3]!;
    expect(f.kind === 'eval' && f.fail && f.evalTime === 60_000).toBe(true);
  });
});
