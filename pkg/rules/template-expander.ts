import { ALERT_TEMPLATE_DEFS, ALERT_TEMPLATE_FUNCS } from './template-funcs.js';
import { executeTemplate, type TemplateEnv } from './template-exec.js';
import { parseTemplate, type ParsedTemplate } from './template-parse.js';

/** AlertTemplateData is what an alert's label and annotation templates see. */
export interface AlertTemplateData {
  /** labels of the query result sample (with `__name__`), `$labels` / `.Labels`. */
  readonly labels: ReadonlyMap<string, string>;
  readonly externalLabels: ReadonlyMap<string, string>;
  readonly externalURL: string;
  /** the sample value, `$value` / `.Value`. */
  readonly value: number;
}

/**
 * TemplateExpander expands Go templates as Prometheus's template.Expander does: parse errors are
 * `error parsing template <name>: …`, execution errors `error executing template <name>: …`.
 * Parsed templates are cached by text.
 */
export class TemplateExpander {
  private readonly cache = new Map<string, ParsedTemplate | Error>();

  constructor(private readonly env: TemplateEnv) {}

  /** expand runs text (a template called name) against data; throws the Prometheus-shaped error. */
  async expand(name: string, text: string, data: unknown, query?: TemplateEnv['query']): Promise<string> {
    const key = `${name}\u0000${text}`;
    let t = this.cache.get(key);
    if (t === undefined) {
      try {
        t = parseTemplate(name, text, ALERT_TEMPLATE_FUNCS);
      } catch (err) {
        t = new Error(`error parsing template ${name}: ${(err as Error).message}`);
      }
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, t);
    }
    if (t instanceof Error) throw t;
    try {
      return await executeTemplate(t, data, query === undefined ? this.env : { ...this.env, query });
    } catch (err) {
      throw new Error(`error executing template ${name}: ${(err as Error).message}`);
    }
  }

  /**
   * expandAlert expands one label or annotation template of alerting rule `alertName` the way
   * Prometheus's alerting rule does: with `$labels`, `$externalLabels`, `$externalURL` and
   * `$value` defined, and `<error expanding template: …>` as the result when it fails.
   */
  async expandAlert(alertName: string, text: string, data: AlertTemplateData, query?: TemplateEnv['query']): Promise<string> {
    const obj = {
      Labels: new Map(data.labels),
      ExternalLabels: new Map(data.externalLabels),
      ExternalURL: data.externalURL,
      Value: data.value,
    };
    try {
      return await this.expand(`__alert_${alertName}`, ALERT_TEMPLATE_DEFS + text, obj, query);
    } catch (err) {
      return `<error expanding template: ${(err as Error).message}>`;
    }
  }
}
