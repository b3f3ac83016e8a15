import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, requireBinary, startProcess, waitForHttp } from '../../testutil/index.js';
import type { ManagedProcess } from '../../testutil/index.js';
import { ParseError, format, parseExpr } from './index.js';

// Compares our printer and error texts with a real Prometheus server (/api/v1/format_query and the
// parse errors of /api/v1/query). The installed Prometheus is 2.42, so the queries stick to syntax
// and messages that did not change between 2.42 and 3.x.

const VALID = [
  '1',
  '-1^2',
  '+1 + -2 * 1',
  '1 + 2/(3*1)',
  '.5 + 5. + 0x1f + 1e3 + 0755',
  'Inf + -Inf + NaN',
  '1 < bool 2 - 1 * 2',
  'foo',
  '-foo',
  '{__name__="foo"}',
  'foo{b="2", a="1"}',
  'foo{a=~"x.*", b!="y", c!~"z|w"}',
  'foo offset 5m',
  'foo offset -1h30m',
  'foo @ 1603775091.5',
  'foo @ -100 offset 1d',
  'foo @ start()',
  'foo @ end() offset 7d',
  'foo[5m]',
  'foo[1h30m] offset 2w',
  'foo[90s] @ 10',
  'rate(foo[5m])',
  'sum by (job) (rate(x[5m]))',
  'sum(rate(x[5m])) by (job, instance)',
  'sum without (a) (x)',
  'sum by () (x)',
  'topk(3, x)',
  'count_values("v", x)',
  'quantile(0.9, x)',
  'avg(x) + on(a) group_left(b) y',
  'x / ignoring(a, b) group_right y',
  'x and on(a) y',
  'x or y unless z',
  'x == bool on() y',
  'x > 1',
  '2 ^ 3 ^ 2',
  '(x + y) * z',
  'foo[5m:]',
  'foo[5m:1m] offset 10m',
  'rate(foo[5m])[30m:1m] @ start()',
  'max_over_time(deriv(rate(distance_covered_total[5s])[30s:5s])[10m:])',
  'label_replace(up, "a", "$1", "b", "(.*)")',
  'label_join(up, "a", ",", "b", "c")',
  'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))',
  'round(x, 0.1)',
  'time() - timestamp(x)',
  'vector(1) + scalar(x)',
  '"a\\nb\\u00e9"',
  "'single'",
  '`raw\\n`',
  'absent(nonexistent{job="myjob"})',
  'x atan2 y',
];

const INVALID = [
  '1 == 1',
  '1 and 1',
  '1 or 1',
  '*1',
  '1 +',
  '(1))',
  '((1)',
  '(',
  '.',
  '0deadbeef',
  '1 !~ 1',
  '1 =~ 1',
  'foo{',
  'foo{a="b"',
  'foo{a}',
  'foo{a=}',
  'foo{a="b" c="d"}',
  '{}',
  '{a=""}',
  '{a=~".*"}',
  'foo{__name__="bar"}',
  'rate(x)',
  'rate(x[5m], 1)',
  'foo(x)',
  'sum(x, y)',
  'topk(x)',
  'topk("a", x)',
  'count_values(1, x)',
  'sum by (a b) (x)',
  'sum by (a:b) (x)',
  'sum by a (x)',
  'x + bool y',
  'x and bool y',
  '1 + "a"',
  'x[5m] + 1',
  'x + on(a) group_left(a) y',
  'x and on(a) group_left y',
  '1 + on(a) 2',
  'sum(x) offset 5m',
  'foo offset 5m offset 5m',
  'foo offset 5m[1m]',
  'foo @ 1 @ 2',
  'foo @ 1[1m]',
  '(foo)[5m]',
  'foo[5m][5m]',
  'rate(foo[5m:])[5m]',
  'foo]',
  'foo @ Inf',
  'foo @ NaN',
  '-"a"',
  '-x[5m]',
  'sum("a")',
  '"a"[5m:]',
  'abs(1, 2)',
  'round()',
  'label_join(x)',
  'vector("a")',
  'a{b="\\q"}',
  '"unterminated',
  '`raw',
  'x + y)',
  'x, y',
  'x @ start',
  'sum by (a,) (x) + sum(,x)',
  'rate(x[5m],)',
  'sum(x y)',
  'rate(x y)',
  '(x y)',
  'sum(rate(,))',
];

const bin = requireBinary('prometheus');

describe.skipIf(!bin)('compatibility with a real Prometheus', () => {
  let dir = '';
  let proc: ManagedProcess | undefined;
  let base = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-promql-'));
    writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    proc = startProcess(bin!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    await waitForHttp(`${base}/-/ready`);
  }, 60_000);

  afterAll(async () => {
    await proc?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function api(path: string, query: string): Promise<{ status: string; data?: string; error?: string }> {
    const res = await fetch(`${base}${path}?query=${encodeURIComponent(query)}`);
    return (await res.json()) as { status: string; data?: string; error?: string };
  }

  test.each(VALID)('format_query %s', async (q) => {
    const want = await api('/api/v1/format_query', q);
    expect(want.status, want.error).toBe('success');
    expect(format(parseExpr(q))).toBe(want.data);
  });

  test.each(INVALID)('parse error %s', async (q) => {
    const want = await api('/api/v1/format_query', q);
    expect(want.status).toBe('error');
    let got = '';
    try {
      parseExpr(q);
    } catch (err) {
      expect(err).toBeInstanceOf(ParseError);
      got = (err as Error).message;
    }
    expect(`invalid parameter "query": ${got}`).toBe(want.error);
  });
});
