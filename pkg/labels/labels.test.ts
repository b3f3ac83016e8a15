import { describe, expect, test } from 'vitest';
import { compareStrings, goQuote, Labels, Matcher, MatchType } from './index.js';

describe('Labels', () => {
  test('fromRecord sorts, drops empty values and formats like Prometheus', () => {
    const l = Labels.fromRecord({ job: 'api', __name__: 'up', empty: '', instance: 'a:1' });
    expect(l.names()).toEqual(['__name__', 'instance', 'job']);
    expect(l.toString()).toBe('{__name__="up", instance="a:1", job="api"}');
    expect(l.get('empty')).toBe('');
    expect(l.has('empty')).toBe(false);
  });

  test('toString quotes UTF-8 label names and escapes values', () => {
    expect(Labels.fromRecord({ 'my.label': 'a"b\\c\n' }).toString()).toBe('{"my.label"="a\\"b\\\\c\\n"}');
  });

  test.each([
    [{ a: '1' }, { a: '1' }, 0],
    [{ a: '1' }, { a: '2' }, -1],
    [{ a: '1' }, { a: '1', b: '1' }, -1],
    [{ a: '1', c: '1' }, { a: '1', b: '9' }, 1],
    [{ b: '1' }, { a: '1', b: '1' }, 1],
  ])('compare(%j, %j) has sign %d', (x, y, want) => {
    expect(Math.sign(Labels.compare(Labels.fromRecord(x), Labels.fromRecord(y)))).toBe(want);
  });

  test('builder sets, deletes and keeps', () => {
    const l = Labels.fromRecord({ a: '1', b: '2', c: '3' });
    expect(l.builder().set('d', '4').del('a').labels().toString()).toBe('{b="2", c="3", d="4"}');
    expect(l.builder().keep('a', 'c').labels().toString()).toBe('{a="1", c="3"}');
    expect(l.builder().set('b', '').labels().toString()).toBe('{a="1", c="3"}');
    expect(l.builder().labels()).toBe(l);
  });

  test('key and equals agree', () => {
    const a = Labels.fromStrings('x', 'a\xffb');
    const b = Labels.fromStrings('x', 'a', 'y', 'b');
    expect(a.equals(b)).toBe(false);
    expect(Labels.fromRecord({ x: '1', y: '2' }).key()).toBe(Labels.fromStrings('y', '2', 'x', '1').key());
  });

  test('without and keep', () => {
    const l = Labels.fromRecord({ __name__: 'm', replica: 'a', job: 'j' });
    expect(l.without(['replica']).toString()).toBe('{__name__="m", job="j"}');
    expect(l.withoutMetricName().toString()).toBe('{job="j", replica="a"}');
    expect(l.keep(['job']).toString()).toBe('{job="j"}');
  });
});

describe('compareStrings orders like UTF-8 bytes', () => {
  test.each([
    ['a', 'b', -1],
    ['ab', 'a', 1],
    ['\uffff', '\u{10000}', -1],
    ['\u{10000}', '\ue000', 1],
    ['z', 'é', -1],
  ])('compareStrings(%j, %j) has sign %d', (a, b, want) => {
    expect(Math.sign(compareStrings(a, b))).toBe(want);
    expect(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))).toBe(want);
  });
});

describe('goQuote matches Go strconv.Quote', () => {
  test.each([
    ['plain', '"plain"'],
    ['tab\there', '"tab\\there"'],
    ['\x00\x7f', '"\\x00\\x7f"'],
    ['ünïcödé ✓', '"ünïcödé ✓"'],
    ['\u0085', '"\\u0085"'],
    ['\ud800', '"\ufffd"'],
  ])('goQuote(%j) = %s', (s, want) => {
    expect(goQuote(s)).toBe(want);
  });
});

describe('Matcher', () => {
  test.each([
    [MatchType.Equal, 'a', 'a', true],
    [MatchType.Equal, 'a', '', false],
    [MatchType.NotEqual, 'a', 'b', true],
    [MatchType.Regexp, 'a.*', 'abc', true],
    [MatchType.Regexp, 'b', 'abc', false],
    [MatchType.Regexp, 'a|b', 'b', true],
    [MatchType.Regexp, 'a|b', 'ab', false],
    [MatchType.Regexp, '.*', 'x\ny', true],
    [MatchType.Regexp, '', '', true],
    [MatchType.NotRegexp, 'a.+', 'a', true],
    [MatchType.NotRegexp, 'a.+', 'ab', false],
    [MatchType.Regexp, '(?i)ABC', 'abc', true],
  ])('type %d value %j matches %j: %s', (type, value, input, want) => {
    expect(new Matcher(type, 'l', value).matches(input)).toBe(want);
  });

  test('set regexps expose their values', () => {
    expect(new Matcher(MatchType.Regexp, 'l', 'x|y|z').setMatches()).toEqual(['x', 'y', 'z']);
    expect(new Matcher(MatchType.Regexp, 'l', 'x.|y').setMatches()).toBeUndefined();
  });

  test('invalid regexp is a clear error', () => {
    expect(() => new Matcher(MatchType.Regexp, 'l', 'a(')).toThrow(/error parsing regexp/);
  });

  test('a catastrophic-backtracking pattern runs in linear time', () => {
    const m = new Matcher(MatchType.Regexp, 'l', '(a+)+b');
    expect(m.matches('a'.repeat(5000))).toBe(false);
  });

  test('toString prints PromQL syntax', () => {
    expect(new Matcher(MatchType.NotRegexp, 'job', 'a"b').toString()).toBe('job!~"a\\"b"');
  });
});
