import { Labels, MetricName } from '../labels/index.js';
import { RuleEvalError } from './recording-rule.js';
import type { RuleHealth, RuleQueryFunc, RuleSample } from './rule-types.js';
import { templateQueryFunc } from './engine-query-func.js';
import type { TemplateExpander } from './template-expander.js';

/** AlertState is the state of one alert; a resolved alert is `inactive` with resolvedAt set. */
export type AlertState = 'inactive' | 'pending' | 'firing';

/** Alert is one alert instance of an alerting rule (times in ms; 0 = unset). */
export interface Alert {
  state: AlertState;
  readonly labels: Labels;
  annotations: Record<string, string>;
  value: number;
  activeAt: number;
  firedAt: number;
  resolvedAt: number;
  lastSentAt: number;
  validUntil: number;
  keepFiringSince: number;
}

/** ALERT_RESOLVED_RETENTION is how long a resolved alert is kept (and re-sent): 15 minutes. */
export const ALERT_RESOLVED_RETENTION = 15 * 60_000;

/** AlertTemplateContext is what alert templates see besides the sample. */
export interface AlertTemplateContext {
  readonly expander: TemplateExpander;
  readonly externalLabels: ReadonlyMap<string, string>;
  readonly externalURL: string;
}

/** ForStateLookup returns the last ALERTS_FOR_STATE sample of a series in [mint, maxt], if any. */
export type ForStateLookup = (series: Labels, mint: number, maxt: number) => Promise<{ t: number; v: number } | undefined>;

/** RestoreOptions are Prometheus's --rules.alert.for-outage-tolerance and --rules.alert.for-grace-period. */
export interface RestoreOptions {
  readonly outageTolerance: number;
  readonly gracePeriod: number;
}

/**
 * AlertingRule keeps the alerts of one alerting rule and moves them through Prometheus's states:
 * inactive → pending → firing → inactive (resolved, retained 15 minutes), with `for` and
 * `keep_firing_for`.
 */
export class AlertingRule {
  health: RuleHealth = 'unknown';
  lastError: Error | undefined;
  lastEvaluation: number | undefined;
  /** wall-clock duration of the last evaluation (ms, fractional). */
  evaluationTime = 0;
  /** false until the `for` state was restored; ALERTS* series are written only once true. */
  restored: boolean;
  readonly active = new Map<string, Alert>();

  constructor(
    readonly name: string,
    readonly expr: string,
    readonly holdDuration: number,
    readonly keepFiringFor: number,
    readonly labels: Readonly<Record<string, string>>,
    readonly annotations: Readonly<Record<string, string>>,
    restored = true,
  ) {
    this.restored = restored;
  }

  /** state is the rule's state for the API: the highest of its alerts (firing > pending > inactive). */
  state(): AlertState {
    let s: AlertState = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') s = 'pending';
    }
    return s;
  }

  /** eval evaluates the rule at ts and returns the ALERTS and ALERTS_FOR_STATE samples. */
  async eval(ts: number, queryOffset: number, query: RuleQueryFunc, limit: number, tmpl: AlertTemplateContext): Promise<RuleSample[]> {
    const qt = ts - queryOffset;
    let res: RuleSample[];
    try {
      res = await query(this.expr, qt);
    } catch (err) {
      throw new RuleEvalError((err as Error).message, err);
    }
    // `query` in templates runs at the evaluation time itself, as in Prometheus.
    const tq = templateQueryFunc(query, ts);
    const resultKeys = new Set<string>();
    const fresh = new Map<string, Alert>();
    for (const s of res) {
      const data = { labels: new Map(s.labels.toArray().map((l) => [l.name, l.value] as const)), externalLabels: tmpl.externalLabels, externalURL: tmpl.externalURL, value: s.v };
      const b = s.labels.builder().del(MetricName);
      for (const k of Object.keys(this.labels).sort()) b.set(k, await tmpl.expander.expandAlert(this.name, this.labels[k]!, data, tq));
      b.set('alertname', this.name);
      const annotations: Record<string, string> = {};
      for (const k of Object.keys(this.annotations).sort()) annotations[k] = await tmpl.expander.expandAlert(this.name, this.annotations[k]!, data, tq);
      const labels = b.labels();
      const key = labels.key();
      resultKeys.add(key);
      if (fresh.has(key)) throw new RuleEvalError('vector contains metrics with the same labelset after applying alert labels');
      fresh.set(key, { state: 'pending', labels, annotations, value: s.v, activeAt: ts, firedAt: 0, resolvedAt: 0, lastSentAt: 0, validUntil: 0, keepFiringSince: 0 });
    }
    for (const [key, a] of fresh) {
      const old = this.active.get(key);
      if (old !== undefined && old.state !== 'inactive') {
        old.value = a.value;
        old.annotations = a.annotations;
        continue;
      }
      this.active.set(key, a);
    }
    const out: RuleSample[] = [];
    let activeCount = 0;
    for (const [key, a] of this.active) {
      if (!resultKeys.has(key)) {
        let keepFiring = false;
        if (a.state === 'firing' && this.keepFiringFor > 0) {
          if (a.keepFiringSince === 0) a.keepFiringSince = ts;
          if (ts - a.keepFiringSince < this.keepFiringFor) keepFiring = true;
        }
        if (a.state === 'pending' || (a.resolvedAt !== 0 && ts - a.resolvedAt > ALERT_RESOLVED_RETENTION)) this.active.delete(key);
        if (a.state !== 'inactive' && !keepFiring) {
          a.state = 'inactive';
          a.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else a.keepFiringSince = 0;
      activeCount++;
      if (a.state === 'pending' && ts - a.activeAt >= this.holdDuration) {
        a.state = 'firing';
        a.firedAt = ts;
      } else if (a.state === 'firing' && a.keepFiringSince === 0 && ts - a.activeAt < this.holdDuration) {
        // `for` was raised above the time this alert has been active: back to pending.
        a.state = 'pending';
        a.firedAt = 0;
      }
      if (this.restored) {
        out.push({ labels: a.labels.builder().set(MetricName, 'ALERTS').set('alertstate', a.state).labels(), t: qt, v: 1 });
        out.push({ labels: a.labels.builder().set(MetricName, 'ALERTS_FOR_STATE').labels(), t: qt, v: Math.floor(a.activeAt / 1000) });
      }
    }
    if (limit > 0 && activeCount > limit) {
      this.active.clear();
      throw new RuleEvalError(`exceeded limit of ${limit} with ${activeCount} alerts`);
    }
    return out;
  }

  /**
   * alertsToSend marks and returns the alerts to send after an evaluation at ts: not pending, and
   * resolved since the last send or last sent more than resendDelay ago. validUntil becomes
   * ts + 4 × max(interval, resendDelay).
   */
  alertsToSend(ts: number, resendDelay: number, interval: number): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) {
      if (a.state === 'pending') continue;
      if (!(a.resolvedAt > a.lastSentAt || a.lastSentAt + resendDelay < ts)) continue;
      a.lastSentAt = ts;
      a.validUntil = ts + 4 * Math.max(interval, resendDelay);
      out.push({ ...a, annotations: { ...a.annotations } });
    }
    return out;
  }

  /**
   * restoreForState restores `activeAt` of the active alerts from their last ALERTS_FOR_STATE
   * sample (Prometheus's RestoreForState), then marks the rule restored. Rules whose `for` is
   * shorter than the grace period are not restored.
   */
  async restoreForState(ts: number, lookup: ForStateLookup, opts: RestoreOptions): Promise<void> {
    if (this.holdDuration < opts.gracePeriod) {
      this.restored = true;
      return;
    }
    for (const a of this.active.values()) {
      if (a.state === 'inactive') continue;
      const series = a.labels.builder().set(MetricName, 'ALERTS_FOR_STATE').labels();
      const last = await lookup(series, ts - opts.outageTolerance, ts);
      if (last === undefined || Number.isNaN(last.v)) continue;
      const downAt = Math.floor(last.t / 1000) * 1000;
      const restoredActiveAt = last.v * 1000;
      const timeSpentPending = downAt - restoredActiveAt;
      const timeRemainingPending = this.holdDuration - timeSpentPending;
      if (timeRemainingPending <= 0) {
        a.activeAt = restoredActiveAt;
      } else if (timeRemainingPending < opts.gracePeriod) {
        a.activeAt = ts + opts.gracePeriod - this.holdDuration;
      } else {
        a.activeAt = restoredActiveAt + (ts - downAt);
      }
    }
    this.restored = true;
  }
}
