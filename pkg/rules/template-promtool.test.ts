import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { requireBinary } from '../testutil/index.js';
import { TemplateExpander } from './template-expander.js';

const promtool = requireBinary('promtool');

// Prometheus itself as the oracle: `promtool test rules` with an expectation of no alerts prints
// every alert it got, annotations rendered by Prometheus's template engine.
const ANNOTATIONS: Record<string, string> = {
  h: '{{ $value | humanize }}|{{ $value | humanize1024 }}|{{ $value | humanizeDuration }}|{{ $value | humanizePercentage }}',
  p: '{{ printf "%.3f %e %g %v %.2f %8.3g %-9.1e|" $value $value $value $value $value $value $value }}{{ $value }}',
  t: '{{ if gt $value 1e9 }}{{ $value | humanizeTimestamp }}{{ else if lt $value 0.0 }}neg{{ else }}small{{ end }}',
  l: '{{ $labels.i | title }} {{ reReplaceAll "^(.)(.*)$" "$2-$1" $labels.__name__ | toUpper }} {{ .Labels.i }} {{ printf "%q" $labels.i }}',
};

function values(): number[] {
  const out = [0, 1, -1, 0.5, 999.95, 1000, 1023, 1024, 1048576, 1e30, 1e-30, -1234, 0.0012, 59.99, 60, 3600, 86400, 93784.5, 0.1, 0.0005, 1e-9, 1767225600, 1767225600.123, 1435065584.128, 0.125, 2.5, 1.0625, 123456789, 1e21, 1e-7, 0.0001, 12.345];
  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < 200; i++) {
    const exp = Math.floor(rnd() * 50) - 25;
    const digits = 1 + Math.floor(rnd() * 7);
    const mant = Math.floor(rnd() * 10 ** digits) / 10 ** (digits - 1);
    const v = Number(((rnd() < 0.2 ? -1 : 1) * mant * 10 ** exp).toPrecision(digits));
    out.push(v);
  }
  return out;
}

function goUnquote(s: string): string {
  return JSON.parse(s.replace(/\\x([0-9a-f]{2})/g, '\\u00$1')) as string;
}

let dir = '';
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('alert templates against Prometheus (promtool test rules)', () => {
  test.skipIf(promtool === undefined)('humanize*, printf, $value, conditionals and string functions render as Prometheus renders them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-tmpl-'));
    const vs = values();
    const ann = Object.entries(ANNOTATIONS)
      .map(([k, v]) => `          ${k}: '${v.replace(/'/g, "''")}'`)
      .join('\n');
    await writeFile(join(dir, 'rules.yml'), `groups:\n  - name: g\n    rules:\n      - alert: T\n        expr: m\n        annotations:\n${ann}\n`);
    const series = vs.map((v, i) => `      - series: 'm{i="s${i}"}'\n        values: '${String(v)}'`).join('\n');
    await writeFile(
      join(dir, 'test.yml'),
      `rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n${series}\n    alert_rule_test:\n      - eval_time: 0m\n        alertname: T\n        exp_alerts: []\n`,
    );
    let out = '';
    try {
      await promisify(execFile)(promtool!, ['test', 'rules', 'test.yml'], { cwd: dir, maxBuffer: 64 << 20 });
    } catch (err) {
      const e = err as { stdout: string; stderr: string };
      out = e.stdout + e.stderr;
    }
    const got = new Map<string, Record<string, string>>();
    const re = /Labels:\{alertname="T", i="(s\d+)"\}\s*\n\s*Annotations:\{(.*)\}/g;
    for (const m of out.matchAll(re)) {
      const anns: Record<string, string> = {};
      for (const a of m[2]!.matchAll(/([a-z]+)=("(?:[^"\\]|\\.)*")/g)) anns[a[1]!] = goUnquote(a[2]!);
      got.set(m[1]!, anns);
    }
    expect(got.size).toBe(vs.length);
    const expander = new TemplateExpander({ externalURL: '' });
    const mismatches: string[] = [];
    for (let i = 0; i < vs.length; i++) {
      const want = got.get(`s${i}`)!;
      for (const [k, text] of Object.entries(ANNOTATIONS)) {
        const ours = await expander.expandAlert('T', text, { labels: new Map([['__name__', 'm'], ['i', `s${i}`]]), externalLabels: new Map(), externalURL: '', value: vs[i]! });
        if (ours !== want[k]) mismatches.push(`value ${vs[i]} ${k}: prometheus ${JSON.stringify(want[k])} ours ${JSON.stringify(ours)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
