import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireBinary } from '../pkg/testutil/index.js';
import { runCaptured, type CapturedRun } from './run-captured.js';
import { toolsRulesCommand } from './tools-rules.js';

const promtool = requireBinary('promtool');

const cli = (argv: string[]): Promise<CapturedRun> => runCaptured(toolsRulesCommand, argv);

// Rule files that promtool 2.42 (the version the interop test runs) understands: no group
// `labels`/`query_offset` (3.x only).
const FILES: Record<string, string> = {
  'good-mixed.yml': `groups:
  - name: g1
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels:
          team: a
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels:
          severity: "{{ if gt $value 1.0 }}page{{ else if lt $value 0.5 }}low{{ else }}ticket{{ end }}"
        annotations:
          summary: "{{ $labels.instance }} down ({{ $value | humanize }}) {{ printf \\"%.2f\\" $value }}"
          desc: '{{ with query "sum(up)" }}{{ . | first | value | humanizePercentage }}{{ end }} {{ range $i, $x := query "up" }}{{ $x.Labels.job }}{{ end }}'
          trim: "{{- /* a comment */ -}} {{ .Labels.job | toUpper -}} !"
          ext: '{{ $externalLabels.cluster }} {{ $externalURL }} {{ reReplaceAll "(.*):.*" "$1" $labels.instance }} {{ (1.5) }}'
  - name: g2
    limit: 10
    rules:
      - alert: X
        expr: vector(1)
`,
  'good-empty.yml': '',
  'good-template-define.yml': 'groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        annotations:\n          x: \'{{ define "t" }}{{ . }}{{ end }}{{ template "t" $value }}{{ range $labels }}{{ break }}{{ end }}\'\n',
  'bad-template-break.yml': 'groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        annotations:\n          x: \'{{ break }}\'\n',
  'good-no-groups.yml': 'groups: []\n',
  'good-extra-doc.yml': 'groups:\n  - name: a\n    rules:\n      - record: a\n        expr: "1"\n---\nfoo: bar\n',
  'good-string-result.yml': 'groups:\n  - name: a\n    rules:\n      - record: s\n        expr: \'"str"\'\n      - record: m\n        expr: x[5m]\n',
  'good-duplicate-rules.yml': 'groups:\n  - name: a\n    rules:\n      - record: a\n        expr: "1"\n      - record: a\n        expr: "1"\n',
  'good-duplicate-alerts.yml': 'groups:\n  - name: a\n    rules:\n      - alert: b\n        expr: up\n        labels: {x: y}\n  - name: b\n    rules:\n      - alert: b\n        expr: up\n        labels: {x: y}\n',
  'bad-many.yml': `groups:
  - name: g1
    rules:
      - record: job:up:sum
        expr: sum by (job) (up
      - alert: A
        record: b
        expr: up
      - expr: up
      - record: "a{b}"
        expr: up
        for: 1m
      - alert: T
        expr: up
        labels:
          bad-name: x
          sev: "{{ $labels.x "
        annotations:
          s: "{{ nosuchfunc 1 }}"
          u: "{{ $undefined }}"
      - alert: NoExpr
  - name: g1
    rules: []
  - name: ""
    rules: []
`,
  'bad-unknown-group-field.yml': 'groups:\n  - name: g1\n    foo: 1\n    rules:\n      - record: a\n        expr: up\n',
  'bad-unknown-rule-field.yml': 'groups:\n  - name: g1\n    rules:\n      - record: a\n        expr: up\n        partial_response_strategy: warn\n',
  'bad-top-level.yml': 'groups: []\nother: 1\n',
  'bad-duration.yml': 'groups:\n  - name: g1\n    rules:\n      - alert: a\n        expr: up\n        for: 1.5m\n',
  'bad-indent.yml': 'groups:\n  - name: g1\n    rules:\n   - alert: a\n',
  'bad-record-annotations.yml': 'groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        annotations:\n          x: y\n',
  'bad-record-keep-firing.yml': 'groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        keep_firing_for: 1m\n',
  'bad-name-label.yml': 'groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        labels:\n          __name__: x\n',
  'bad-annotation-name.yml': 'groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        annotations:\n          bad-name: x\n',
  'bad-template-end.yml': 'groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        annotations:\n          x: "{{ end }}"\n',
  'bad-template-if.yml': 'groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        annotations:\n          x: "{{ if $value }}yes"\n',
  'good-template-trailing-pipe.yml': 'groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        annotations:\n          x: "{{ $value | }}"\n',
  'bad-limit.yml': 'groups:\n  - name: g\n    limit: many\n    rules:\n      - alert: a\n        expr: up\n',
  'bad-duplicate-key.yml': 'groups:\n  - name: g\n    name: h\n    rules: []\n',
  'bad-promql.yml': 'groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: rate(x[5m]\n      - record: b\n        expr: sum(x) by\n',
  'bad-record-name.yml': 'groups:\n  - name: g\n    rules:\n      - record: 1bad\n        expr: up\n',
};

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-rules-'));
  for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

function ruleCount(out: string): number | undefined {
  const m = /SUCCESS: (\d+) rules found/.exec(out);
  return m === null ? undefined : Number(m[1]);
}

describe('tessera tools rules check', () => {
  test('prints promtool-shaped output and exits 1 with every problem named by file and line', async () => {
    const r = await cli(['check', join(dir, 'good-mixed.yml'), join(dir, 'bad-many.yml')]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(`Checking ${join(dir, 'good-mixed.yml')}\n  SUCCESS: 3 rules found\n\nChecking ${join(dir, 'bad-many.yml')}\n\n`);
    const f = join(dir, 'bad-many.yml');
    // Verbatim what promtool 2.42 printed for this file.
    expect(r.err).toBe(
      [
        '  FAILED:',
        `${f}: 5:15: group "g1", rule 1, "job:up:sum": could not parse expression: 1:17: parse error: unclosed left parenthesis`,
        `${f}: 7:17: 6:16: group "g1", rule 2, "A": only one of 'record' and 'alert' must be set`,
        `${f}: 0:0: group "g1", rule 3, "": one of 'record' or 'alert' must be set`,
        `${f}: 10:17: group "g1", rule 4, "a{b}": invalid field 'for' in recording rule`,
        `${f}: 10:17: group "g1", rule 4, "a{b}": invalid recording rule name: a{b}`,
        `${f}: group "g1", rule 5, "T": invalid label name: bad-name`,
        `${f}: group "g1", rule 5, "T": label "sev": template: __alert_T:1: unclosed action`,
        `${f}: group "g1", rule 5, "T": annotation "s": template: __alert_T:1: function "nosuchfunc" not defined`,
        `${f}: group "g1", rule 5, "T": annotation "u": template: __alert_T:1: undefined variable "$undefined"`,
        `${f}: 0:0: group "g1", rule 6, "NoExpr": field 'expr' must be set in rule`,
        `${f}: 22:5: groupname: "g1" is repeated in the same file`,
        `${f}: 24:5: Groupname must not be empty`,
        '',
      ].join('\n'),
    );
  });

  test('duplicate rules are a lint finding printed like promtool, exit 0', async () => {
    const r = await cli(['check', join(dir, 'good-duplicate-rules.yml')]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`Checking ${join(dir, 'good-duplicate-rules.yml')}\n\n`);
    expect(r.err).toBe('  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: a\nLabel(s):\nMight cause inconsistency while recording expressions\n');
  });

  test('usage error without files', async () => {
    const r = await cli(['check']);
    expect(r.code).toBe(2);
  });

  test.skipIf(promtool === undefined)('same verdict and rule count as promtool check rules on every fixture', async () => {
    const run = promisify(execFile);
    const mismatches: string[] = [];
    for (const name of Object.keys(FILES)) {
      const path = join(dir, name);
      let pCode = 0;
      let pOut = '';
      try {
        pOut = (await run(promtool!, ['check', 'rules', path])).stdout;
      } catch (err) {
        const e = err as { code: number; stdout: string };
        pCode = e.code;
        pOut = e.stdout;
      }
      const ours = await cli(['check', path]);
      const want = { code: pCode, count: ruleCount(pOut) };
      const got = { code: ours.code, count: ruleCount(ours.out) };
      if (want.code !== got.code || want.count !== got.count) mismatches.push(`${name}: promtool ${JSON.stringify(want)}, ours ${JSON.stringify(got)} ${ours.err}`);
      expect(name.startsWith('good') ? 0 : 1, `${name} fixture expectation (promtool said ${pCode})`).toBe(pCode);
    }
    expect(mismatches).toEqual([]);
  });
});
