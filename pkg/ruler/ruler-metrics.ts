import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** RulerMetrics are the ruler's metrics, named as the Thanos ruler and Prometheus's rule manager name them. */
export class RulerMetrics {
  readonly configLastReloadSuccessful: Gauge;
  readonly configLastReloadSuccessTimestamp: Gauge;
  readonly loadedRules: Gauge<'file' | 'group' | 'strategy'>;
  readonly evaluations: Counter<'rule_group'>;
  readonly evaluationFailures: Counter<'rule_group'>;
  readonly groupLastEvaluation: Gauge<'rule_group'>;
  readonly groupLastDuration: Gauge<'rule_group'>;
  readonly groupInterval: Gauge<'rule_group'>;
  readonly groupRules: Gauge<'rule_group'>;
  readonly evaluationDuration: Histogram;
  readonly evaluationWarnings: Counter<'strategy'>;
  readonly appendFailures: Counter<'reason'>;
  readonly alertsSent: Counter;
  readonly alertsDropped: Counter;
  readonly alertSendErrors: Counter<'alertmanager'>;
  readonly queriesFailed: Counter<'endpoint'>;

  /** the Alertmanager sender's counters, read on every scrape. */
  senderStats: { readonly sent: number; readonly dropped: number } = { sent: 0, dropped: 0 };

  constructor(registry: Registry | undefined) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const reported = { sent: 0, dropped: 0 };
    const catchUp = (c: Counter, k: 'sent' | 'dropped'): void => {
      const v = self.senderStats[k];
      if (v > reported[k]) c.inc(v - reported[k]);
      reported[k] = v;
    };
    const registers = registry === undefined ? [] : [registry];
    this.configLastReloadSuccessful = new Gauge({ name: 'thanos_rule_config_last_reload_successful', help: 'Whether the last configuration reload attempt was successful.', registers });
    this.configLastReloadSuccessTimestamp = new Gauge({ name: 'thanos_rule_config_last_reload_success_timestamp_seconds', help: 'Timestamp of the last successful configuration reload.', registers });
    this.loadedRules = new Gauge({ name: 'thanos_rule_loaded_rules', help: 'Loaded rules partitioned by file and group.', labelNames: ['file', 'group', 'strategy'], registers });
    this.evaluations = new Counter({ name: 'prometheus_rule_evaluations_total', help: 'The total number of rule evaluations.', labelNames: ['rule_group'], registers });
    this.evaluationFailures = new Counter({ name: 'prometheus_rule_evaluation_failures_total', help: 'The total number of rule evaluation failures.', labelNames: ['rule_group'], registers });
    this.groupLastEvaluation = new Gauge({ name: 'prometheus_rule_group_last_evaluation_timestamp_seconds', help: 'The timestamp of the last rule group evaluation in seconds.', labelNames: ['rule_group'], registers });
    this.groupLastDuration = new Gauge({ name: 'prometheus_rule_group_last_duration_seconds', help: 'The duration of the last rule group evaluation.', labelNames: ['rule_group'], registers });
    this.groupInterval = new Gauge({ name: 'prometheus_rule_group_interval_seconds', help: 'The interval of a rule group.', labelNames: ['rule_group'], registers });
    this.groupRules = new Gauge({ name: 'prometheus_rule_group_rules', help: 'The number of rules.', labelNames: ['rule_group'], registers });
    this.evaluationDuration = new Histogram({ name: 'prometheus_rule_group_duration_seconds', help: 'The duration of rule group evaluations.', buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30], registers });
    this.evaluationWarnings = new Counter({ name: 'thanos_rule_evaluation_with_warnings_total', help: 'The total number of rule evaluation that were successful but had warnings which can indicate partial error.', labelNames: ['strategy'], registers });
    this.appendFailures = new Counter({ name: 'tessera_rule_append_failures_total', help: 'Samples of rule results the ruler\'s storage refused, by reason.', labelNames: ['reason'], registers });
    this.alertsSent = new Counter({
      name: 'thanos_alert_sender_alerts_sent_total',
      help: 'Total number of alerts sent (delivered to at least one Alertmanager).',
      registers,
      collect() {
        catchUp(this, 'sent');
      },
    });
    this.alertsDropped = new Counter({
      name: 'thanos_alert_queue_alerts_dropped_total',
      help: 'Total number of alerts dropped because the queue was full.',
      registers,
      collect() {
        catchUp(this, 'dropped');
      },
    });
    this.alertSendErrors = new Counter({ name: 'thanos_alert_sender_errors_total', help: 'Total number of errors while sending alerts to Alertmanager.', labelNames: ['alertmanager'], registers });
    this.queriesFailed = new Counter({ name: 'tessera_rule_query_endpoint_errors_total', help: 'Rule queries an endpoint failed (another endpoint may have answered).', labelNames: ['endpoint'], registers });
  }
}
