import { describe, expect, test } from 'vitest';
import { GoInt } from './go-format.js';
import { TemplateSample } from './template-exec.js';
import { TemplateExpander } from './template-expander.js';

const lbls = (o: Record<string, string>): Map<string, string> => new Map(Object.entries(o));

function expander(result: TemplateSample[] = []): TemplateExpander {
  return new TemplateExpander({ externalURL: 'http://testhost:9090/path/prefix', query: async () => result });
}

async function run(text: string, data: unknown = null, result: TemplateSample[] = []): Promise<string> {
  return expander(result).expand('test', text, data);
}

// Expected outputs are the facts of Prometheus's template/template_test.go.
describe('template expansion (Prometheus template_test.go facts)', () => {
  const cases: [string, string, unknown?, TemplateSample[]?][] = [
    ['plain text', 'plain text'],
    ['{{ 1 }}', '1'],
    ['{{ "<b>" }}', '<b>'],
    ['{{ query "1.5" | first | value }}', '1.5', null, [new TemplateSample(new Map(), 1.5)]],
    ['{{ query "metric{instance=\'a\'}" | first | value }}', '11', null, [new TemplateSample(lbls({ __name__: 'metric', instance: 'a' }), 11)]],
    ['{{ query "metric{instance=\'a\'}" | first | label "instance" }}', 'a', null, [new TemplateSample(lbls({ __name__: 'metric', instance: 'a' }), 11)]],
    ['{{ query "metric{__value__=\'a\'}" | first | strvalue }}', 'a', null, [new TemplateSample(lbls({ __name__: 'metric', __value__: 'a' }), 11)]],
    ['{{ query "metric{instance=\'a\'}" | first | label "foo" }}', '', null, [new TemplateSample(lbls({ __name__: 'metric', instance: 'a' }), 11)]],
    ['{{ $x := query "metric" | first }}{{ $x.Labels.foo }}', '', null, [new TemplateSample(lbls({ __name__: 'metric', instance: 'a' }), 11)]],
    [
      '{{ range query "metric" | sortByLabel "instance" }}{{.Labels.instance}}:{{.Value}}: {{end}}',
      'a:11: b:21: ',
      null,
      [new TemplateSample(lbls({ __name__: 'metric', instance: 'b' }), 21), new TemplateSample(lbls({ __name__: 'metric', instance: 'a' }), 11)],
    ],
    ['{{ "foo.example.com" | stripPort }}', 'foo.example.com'],
    ['{{ "foo.example.com:12345" | stripPort }}', 'foo.example.com'],
    ['{{ "192.0.2.1" | stripPort }}', '192.0.2.1'],
    ['{{ "192.0.2.1:12345" | stripPort }}', '192.0.2.1'],
    ['{{ "2001:0DB8::1" | stripPort }}', '2001:0DB8::1'],
    ['{{ "[2001:0DB8::1]:12345" | stripPort }}', '2001:0DB8::1'],
    ['{{ "[2001:0DB8::1]::12345" | stripPort }}', '[2001:0DB8::1]::12345'],
    ['{{ reReplaceAll "(a)b" "x$1" "ab" }}', 'xa'],
    ['{{ range . }}{{ humanize . }}:{{ end }}', '0:1:1.235M:120m:', [0.0, 1.0, 1234567.0, 0.12]],
    ['{{ range . }}{{ humanize . }}:{{ end }}', '0:1:1.235M:120m:', ['0.0', '1.0', '1234567.0', '.12']],
    ['{{ range . }}{{ humanize . }}:{{ end }}', '0:-1:1:1.235M:', [new GoInt(0), new GoInt(-1), new GoInt(1), new GoInt(1234567)]],
    ['{{ range . }}{{ humanize1024 . }}:{{ end }}', '0:1:1Mi:0.12:', [0.0, 1.0, 1048576.0, 0.12]],
    ['{{ range . }}{{ humanize1024 . }}:{{ end }}', '0:-1:1:1.177Mi:', [new GoInt(0), new GoInt(-1), new GoInt(1), new GoInt(1234567)]],
    [
      '{{ range . }}{{ humanizeDuration . }}:{{ end }}',
      '0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:',
      [0, 1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99],
    ],
    ['{{ range . }}{{ humanizeDuration . }}:{{ end }}', '0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:', ['0', '1', '60', '3600', '86400']],
    ['{{ range . }}{{ humanizeDuration . }}:{{ end }}', '100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:', [0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]],
    ['{{ range . }}{{ humanizeDuration . }}:{{ end }}', '0s:-1s:1s:14d 6h 56m 7s:', [new GoInt(0), new GoInt(-1), new GoInt(1), new GoInt(1234567)]],
    [
      '{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}',
      '+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:',
      [Infinity, -Infinity, NaN],
    ],
    [
      '{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}',
      '+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:',
      ['+Inf', '-Inf', 'NaN'],
    ],
    ['{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}', '-22.22%:0%:12.35%:123.5%'],
    ['{{ range . }}{{ humanizePercentage . }}:{{ end }}', '0%:-100%:100%:1.235e+08%:', [new GoInt(0), new GoInt(-1), new GoInt(1), new GoInt(1234567)]],
    ['{{ "-0.22222" | humanizePercentage }}:{{ "0.0" | humanizePercentage }}', '-22.22%:0%'],
    [
      '{{ range . }}{{ humanizeTimestamp . }}:{{ end }}',
      '1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:',
      [new GoInt(0), new GoInt(-1), new GoInt(1), new GoInt(1234567), new GoInt(9223372036)],
    ],
    ['{{ 1435065584.128 | humanizeTimestamp }}', '2015-06-23 13:19:44.128 +0000 UTC'],
    ['{{ "1435065584.128" | humanizeTimestamp }}', '2015-06-23 13:19:44.128 +0000 UTC'],
    ['{{ "aa bb CC" | title }}', 'Aa Bb CC'],
    ['{{ "aa bb CC" | toUpper }}', 'AA BB CC'],
    ['{{ "aA bB CC" | toLower }}', 'aa bb cc'],
    ['{{ match "a+" "aa" }} {{ match "a+" "b" }}', 'true false'],
    ['{{ graphLink "up" }}', '/graph?g0.expr=up&g0.tab=0'],
    ['{{ tableLink "up" }}', '/graph?g0.expr=up&g0.tab=1'],
    ['{{ pathPrefix }}', '/path/prefix'],
    ['{{ externalURL }}', 'http://testhost:9090/path/prefix'],
    ['{{ printf "%0.2f" (parseDuration "1h2m10ms") }}', '3720.01'],
    ['{{ "foo.example.com" | stripDomain }}', 'foo'],
    ['{{ "foo.example.com:12345" | stripDomain }}', 'foo:12345'],
    ['{{ "192.0.2.1:12345" | stripDomain }}', '192.0.2.1:12345'],
    ['{{ "<b>" | safeHtml }}', '<b>'],
    ['{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}', '1 2'],
  ];
  test.each(cases)('%s', async (text, want, data, result) => {
    expect(await run(text, data ?? null, result ?? [])).toBe(want);
  });

  test.each([
    ['{{', 'error parsing template test: template: test:1: unclosed action'],
    ['{{ query "missing" | first }}', 'error executing template test: template: test:1:21: executing "test" at <first>: error calling first: first() called on vector with no elements'],
    ['{{ humanize "one" }}', 'error executing template test: template: test:1:3: executing "test" at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax'],
    ['{{ "one" | humanizePercentage }}', 'error executing template test: template: test:1:11: executing "test" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax'],
    ['{{ humanizeTimestamp 1e19 }}', 'error executing template test: template: test:1:3: executing "test" at <humanizeTimestamp 1e19>: error calling humanizeTimestamp: 1e+19 cannot be represented as a nanoseconds timestamp since it overflows int64'],
  ])('error %s', async (text, msg) => {
    await expect(run(text)).rejects.toThrow(msg);
  });
});

describe('Go text/template semantics', () => {
  test.each([
    ['{{ if gt 2.0 1.0 }}a{{ else if lt 1.0 0.5 }}b{{ else }}c{{ end }}', 'a'],
    ['{{ if lt 2.0 1.0 }}a{{ else if eq 1.0 1.0 }}b{{ else }}c{{ end }}', 'b'],
    ['{{ if false }}a{{ else }}c{{ end }}', 'c'],
    ['{{ with "" }}x{{ else }}empty{{ end }}', 'empty'],
    ['{{ with "v" }}{{ . }}{{ end }}', 'v'],
    ['{{ range $i, $x := . }}{{ $i }}={{ $x }} {{ end }}', '0=1.5 1=1e+06 2=123456 ', [1.5, 1e6, 123456]],
    ['{{ range . }}x{{ else }}none{{ end }}', 'none', []],
    ['{{- "a" -}}  {{- "b" }} {{/* c */}}!', 'ab !'],
    ['{{ $x := 1 }}{{ $x = 2 }}{{ $x }}', '2'],
    ['{{ printf "%.2f|%e|%5.1f|%-4d|%q|%v|%s" 1.0 1.0 3.14159 7 "q" 2.5 "s" }}', '1.00|1.000000e+00|  3.1|7   |"q"|2.5|s'],
    ['{{ print 1 2 "a" "b" 3 }}', '1 2ab3'],
    ['{{ len "abc" }} {{ index . "k" }} {{ not true }} {{ and 1 0 }} {{ or 0 "x" }}', '3 v false 0 x', new Map([['k', 'v']])],
    ['{{ 1.5 | printf "%v" }} {{ "a b&" | urlquery }} {{ "<a>" | html }}', '1.5 a+b%26 &lt;a&gt;'],
    ['{{ eq "a" "b" "a" }} {{ ne 1 2 }} {{ le 1 1 }} {{ ge 1 2 }}', 'true true true false'],
    ['{{ .Missing }}', '', new Map()],
    ['{{ 0x10 }} {{ 1e3 }} {{ -2 }}', '16 1000 -2'],
  ] as [string, string, unknown?][])('%s', async (text, want, data) => {
    expect(await run(text, data ?? null)).toBe(want);
  });

  test('define, template, block, break and continue', async () => {
    expect(await run('{{ block "b" . }}[{{ . }}]{{ end }}{{ template "b" "y" }}', 'x')).toBe('[x][y]');
    expect(await run('{{ range . }}{{ if eq . 2.0 }}{{ continue }}{{ end }}{{ if eq . 4.0 }}{{ break }}{{ end }}{{ . }}{{ end }}', [1, 2, 3, 4, 5])).toBe('13');
    await expect(run('{{ template "nope" }}')).rejects.toThrow('executing "test" at <{{template "nope"}}>: template "nope" not defined');
    await expect(run('{{ break }}')).rejects.toThrow('template: test:1: {{break}} outside {{range}}');
  });

  test('comparing float and int is an error, as in Go', async () => {
    await expect(run('{{ gt 1.5 1 }}')).rejects.toThrow('error calling gt: incompatible types for comparison');
  });

  test('parse errors: undefined variables and functions, unexpected end/else', async () => {
    await expect(run('{{ $nope }}')).rejects.toThrow('template: test:1: undefined variable "$nope"');
    await expect(run('{{ nope }}')).rejects.toThrow('template: test:1: function "nope" not defined');
    await expect(run('a\n{{ end }}')).rejects.toThrow('template: test:2: unexpected {{end}}');
    await expect(run('{{ if 1 }}')).rejects.toThrow('template: test:1: unexpected EOF');
  });
});

describe('alert templates', () => {
  const data = { labels: lbls({ __name__: 'up', instance: 'h:9100', job: 'node' }), externalLabels: lbls({ cluster: 'eu1' }), externalURL: 'http://vm:19090', value: 1 };

  test('$labels, $value, $externalLabels, $externalURL, .Labels, .Value', async () => {
    const e = expander();
    expect(await e.expandAlert('A', '{{ $labels.instance }} {{ $value }} {{ $externalLabels.cluster }} {{ $externalURL }} {{ .Labels.job }} {{ .Value }}', data)).toBe(
      'h:9100 1 eu1 http://vm:19090 node 1',
    );
    expect(await e.expandAlert('A', '{{ $labels }}', { ...data, labels: lbls({ __name__: 'm', i: '1' }) })).toBe('map[__name__:m i:1]');
    expect(await e.expandAlert('A', '{{ printf "%.2f" $value }} {{ $value | printf "%e" }}', data)).toBe('1.00 1.000000e+00');
  });

  test('execution errors become <error expanding template: …> with the column counting the variable definitions', async () => {
    const out = await expander().expandAlert('TestFor', '{{ index $labels 3 }}', data);
    expect(out).toBe(
      '<error expanding template: error executing template __alert_TestFor: template: __alert_TestFor:1:115: executing "__alert_TestFor" at <index $labels 3>: error calling index: value has type int; should be string>',
    );
  });

  test('query results through the callback', async () => {
    const e = new TemplateExpander({ externalURL: '', query: async (q) => (q === 'sum(x)' ? [new TemplateSample(new Map(), 2)] : []) });
    expect(await e.expandAlert('A', '{{ with query "sum(x)" }}{{ . | first | value }}{{ end }}', data)).toBe('2');
  });
});
