import { GO_BUILTINS, executeTemplate, goQueryEscape, parseTemplate } from '../rules/index.js';
import { RulerError, RulerErrorCode } from './errors.js';

/** DEFAULT_ALERT_QUERY_TEMPLATE is Thanos's --alert.query-template default. */
export const DEFAULT_ALERT_QUERY_TEMPLATE = '/graph?g0.expr={{.Expr}}&g0.tab=1';

/**
 * alertQueryTemplate compiles --alert.query-template (a Go text/template whose `.Expr` is the
 * query-escaped expression) into the function that makes the part of an alert's generatorURL after
 * --alert.query-url. As Thanos, the template is checked at start by parsing it and executing it
 * with the expression "test_expr"; a bad one is a RulerError.
 */
export async function alertQueryTemplate(text: string): Promise<(expr: string) => Promise<string>> {
  let tmpl: ReturnType<typeof parseTemplate>;
  try {
    tmpl = parseTemplate('url', text, new Set(GO_BUILTINS));
  } catch (err) {
    throw new RulerError(RulerErrorCode.AlertQueryTemplate, `--alert.query-template: failed to parse the template: ${(err as Error).message}`, { cause: err });
  }
  const render = (expr: string): Promise<string> => executeTemplate(tmpl, new Map([['Expr', goQueryEscape(expr)]]), { externalURL: '' });
  try {
    await render('test_expr');
  } catch (err) {
    throw new RulerError(RulerErrorCode.AlertQueryTemplate, `--alert.query-template: failed to execute the template: ${(err as Error).message}`, { cause: err });
  }
  return render;
}
