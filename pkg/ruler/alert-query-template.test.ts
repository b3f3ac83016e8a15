import { expect, test } from 'vitest';
import { DEFAULT_ALERT_QUERY_TEMPLATE, alertQueryTemplate } from './alert-query-template.js';

test('--alert.query-template renders .Expr query-escaped; a template that does not parse or execute is refused at start', async () => {
  const def = await alertQueryTemplate(DEFAULT_ALERT_QUERY_TEMPLATE);
  expect(await def('rate(x{a="b c"}[5m]) > 0')).toBe('/graph?g0.expr=rate%28x%7Ba%3D%22b+c%22%7D%5B5m%5D%29+%3E+0&g0.tab=1');
  const custom = await alertQueryTemplate('/explore?expr={{ .Expr }}&from=now-1h');
  expect(await custom('up == 0')).toBe('/explore?expr=up+%3D%3D+0&from=now-1h');
  await expect(alertQueryTemplate('/graph?g0.expr={{.Expr')).rejects.toThrow(/--alert.query-template: failed to parse the template/);
  await expect(alertQueryTemplate('/graph?g0.expr={{.Expr.Foo}}')).rejects.toThrow(/--alert.query-template: failed to execute the template/);
});
