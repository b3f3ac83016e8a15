import type { Labels } from '../labels/index.js';
import type { Alert } from './alerting-rule.js';
import { goQueryEscape } from './go-query-escape.js';

/** AlertmanagerAlert is one element of an Alertmanager API v2 `POST /api/v2/alerts` body. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

/** AlertmanagerPayloadOptions choose how the sender's labels are attached. */
export interface AlertmanagerPayloadOptions {
  /** externalURL of the sender; generatorURL = externalURL + `/graph?g0.expr=…&g0.tab=1`. */
  readonly externalURL: string;
  readonly externalLabels: Labels;
  /**
   * `prometheus`: external labels are added only where the alert lacks them; `thanos`: the
   * ruler's labels are set (overwriting), then dropLabels removed.
   */
  readonly mode: 'prometheus' | 'thanos';
  readonly dropLabels?: readonly string[];
  /** generatorURL overrides the link made from externalURL (e.g. Thanos's --alert.query-template). */
  readonly generatorURL?: string;
}

/**
 * toAlertmanagerAlerts converts the alerts a rule sends into Alertmanager v2 alerts: startsAt is
 * firedAt, endsAt is resolvedAt for resolved alerts and validUntil otherwise, times in RFC 3339
 * UTC with milliseconds; annotations are omitted when there are none.
 */
export function toAlertmanagerAlerts(expr: string, alerts: readonly Alert[], opts: AlertmanagerPayloadOptions): AlertmanagerAlert[] {
  const generatorURL = opts.generatorURL ?? `${opts.externalURL}/graph?g0.expr=${goQueryEscape(expr)}&g0.tab=1`;
  return alerts.map((a) => {
    const b = a.labels.builder();
    if (opts.mode === 'thanos') {
      // Thanos's alert queue: the ruler's labels are set, then the label-drop labels removed
      // (so an HA pair with different `replica` labels sends identical alerts).
      opts.externalLabels.forEach((n, v) => b.set(n, v));
      if (opts.dropLabels !== undefined) b.del(...opts.dropLabels);
    } else {
      opts.externalLabels.forEach((n, v) => {
        if (b.get(n) === '') b.set(n, v);
      });
    }
    const out: AlertmanagerAlert = {
      labels: b.labels().toRecord(),
      startsAt: new Date(a.firedAt).toISOString(),
      endsAt: new Date(a.resolvedAt !== 0 ? a.resolvedAt : a.validUntil).toISOString(),
      generatorURL,
    };
    if (Object.keys(a.annotations).length > 0) out.annotations = { ...a.annotations };
    return out;
  });
}
