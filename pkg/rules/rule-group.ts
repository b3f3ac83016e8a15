import { staleNaN } from '../promql/index.js';
import { AlertingRule, type Alert, type AlertTemplateContext, type ForStateLookup, type RestoreOptions } from './alerting-rule.js';
import { RecordingRule } from './recording-rule.js';
import type { RuleGroupDef } from './rule-file.js';
import type { RuleQueryFunc, RuleSample } from './rule-types.js';
import type { Labels } from '../labels/index.js';

/** Rule is a recording or an alerting rule. */
export type Rule = RecordingRule | AlertingRule;

/** RuleGroupDeps are the outside world of a group: queries, storage, notification, templates. */
export interface RuleGroupDeps {
  readonly query: RuleQueryFunc;
  /** appends one rule's output (and stale markers) and commits; awaited before the next rule runs. */
  readonly append: (samples: readonly RuleSample[]) => Promise<void>;
  /** receives the alerts of one rule that need sending, with the rule's expression as printed. */
  readonly notify: (expr: string, alerts: readonly Alert[]) => void;
  readonly templates: AlertTemplateContext;
  readonly forStateLookup?: ForStateLookup;
}

/** RuleGroupOptions are the group's settings (ms). */
export interface RuleGroupOptions {
  readonly interval: number;
  readonly queryOffset: number;
  readonly limit: number;
  readonly resendDelay: number;
  /** restore `for` state from ALERTS_FOR_STATE after the second evaluation (groups loaded at start-up). */
  readonly restore: boolean;
  readonly restoreOptions: RestoreOptions;
  /** Thanos's partial_response_strategy of the group (the ruler's queries honour it); default abort. */
  readonly partialResponseStrategy?: 'warn' | 'abort';
}

/** RuleGroupEvalResult describes one evaluation. */
export interface RuleGroupEvalResult {
  readonly samples: number;
  readonly failedRules: number;
}

/**
 * RuleGroup evaluates its rules in file order: each rule's output is appended before the next
 * rule runs (so a rule sees the results of earlier ones), series no longer produced get stale
 * markers, alerts needing it are handed to notify, and after the second evaluation the `for` state
 * of alerting rules is restored.
 */
export class RuleGroup {
  private seriesInPreviousEval: Map<string, Labels>[];
  /** series of rules removed by a reload, marked stale at the next evaluation. */
  private staleSeries: Labels[] = [];
  private evaluations = 0;
  private shouldRestore: boolean;
  /** start of the last evaluation (ms); undefined before the first. */
  lastEvaluation: number | undefined;
  /** wall-clock duration of the last evaluation (ms, fractional). */
  evaluationTime = 0;

  constructor(
    readonly name: string,
    readonly file: string,
    readonly rules: Rule[],
    readonly options: RuleGroupOptions,
  ) {
    this.seriesInPreviousEval = rules.map(() => new Map());
    this.shouldRestore = options.restore;
  }

  /** fromDef builds a group from a parsed rule file group; group labels apply where a rule lacks them. */
  static fromDef(def: RuleGroupDef, file: string, options: Omit<RuleGroupOptions, 'interval' | 'queryOffset' | 'limit' | 'partialResponseStrategy'> & { defaultInterval: number; defaultQueryOffset: number }): RuleGroup {
    const rules: Rule[] = def.rules.map((r) => {
      const labels = { ...def.labels, ...r.labels };
      if (r.alert !== undefined && r.alert !== '') return new AlertingRule(r.alert, r.expr, r.for, r.keepFiringFor, labels, r.annotations, !options.restore);
      return new RecordingRule(r.record ?? '', r.expr, labels);
    });
    return new RuleGroup(def.name, file, rules, {
      interval: def.interval ?? options.defaultInterval,
      queryOffset: def.queryOffset ?? options.defaultQueryOffset,
      limit: def.limit,
      resendDelay: options.resendDelay,
      restore: options.restore,
      restoreOptions: options.restoreOptions,
      partialResponseStrategy: def.partialResponseStrategy === 'warn' ? 'warn' : 'abort',
    });
  }

  /** eval evaluates every rule at ts (ms); printExpr prints an expression for generatorURL. */
  async eval(ts: number, deps: RuleGroupDeps, printExpr: (expr: string) => string = (e) => e): Promise<RuleGroupEvalResult> {
    let samples = 0;
    let failed = 0;
    const groupStart = performance.now();
    this.lastEvaluation = ts;
    if (this.staleSeries.length > 0) {
      const t = ts - this.options.queryOffset;
      await deps.append(this.staleSeries.map((labels) => ({ labels, t, v: staleNaN })));
      this.staleSeries = [];
    }
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      let out: RuleSample[];
      const ruleStart = performance.now();
      try {
        out = rule instanceof AlertingRule ? await rule.eval(ts, this.options.queryOffset, deps.query, this.options.limit, deps.templates) : await rule.eval(ts, this.options.queryOffset, deps.query, this.options.limit);
        rule.health = 'ok';
        rule.lastError = undefined;
      } catch (err) {
        rule.health = 'err';
        rule.lastError = err as Error;
        rule.lastEvaluation = ts;
        rule.evaluationTime = performance.now() - ruleStart;
        failed++;
        continue;
      }
      rule.lastEvaluation = ts;
      rule.evaluationTime = performance.now() - ruleStart;
      if (rule instanceof AlertingRule) {
        const send = rule.alertsToSend(ts, this.options.resendDelay, this.options.interval);
        if (send.length > 0) deps.notify(printExpr(rule.expr), send);
      }
      const returned = new Map<string, Labels>();
      for (const s of out) returned.set(s.labels.key(), s.labels);
      const staleT = ts - this.options.queryOffset;
      const stale: RuleSample[] = [];
      for (const [k, l] of this.seriesInPreviousEval[i]!) if (!returned.has(k)) stale.push({ labels: l, t: staleT, v: staleNaN });
      await deps.append(stale.length === 0 ? out : [...out, ...stale]);
      this.seriesInPreviousEval[i] = returned;
      samples += out.length;
    }
    this.evaluations++;
    this.evaluationTime = performance.now() - groupStart;
    if (this.shouldRestore && this.evaluations >= 2) {
      // A rule is restored after an evaluation that succeeded (its alerts are known); one whose
      // queries still fail (e.g. its query API was not back yet after a restart) waits for a
      // successful evaluation instead of losing its state.
      let waiting = false;
      for (const r of this.rules) {
        if (!(r instanceof AlertingRule) || r.restored) continue;
        if (r.health !== 'ok') {
          waiting = true;
          continue;
        }
        if (deps.forStateLookup !== undefined) await r.restoreForState(ts, deps.forStateLookup, this.options.restoreOptions);
        else r.restored = true;
      }
      if (!waiting) this.shouldRestore = false;
    }
    return { samples, failedRules: failed };
  }

  /**
   * copyState takes over the state of the group this one replaces on a reload (Prometheus's
   * Group.CopyState): rules are matched by name and labels, in order; a matched alerting rule
   * keeps its alerts (so pending/firing alerts survive the reload) and a matched rule its series
   * for stale marking; series of rules that no longer exist are marked stale at the next evaluation.
   */
  copyState(from: RuleGroup): void {
    const key = (r: Rule): string => `${r.name}${JSON.stringify(Object.entries(r.labels).sort())}`;
    const byKey = new Map<string, number[]>();
    from.rules.forEach((r, i) => {
      const k = key(r);
      byKey.set(k, [...(byKey.get(k) ?? []), i]);
    });
    this.rules.forEach((r, i) => {
      const k = key(r);
      const idx = byKey.get(k) ?? [];
      const fi = idx[0];
      if (fi === undefined) return;
      byKey.set(k, idx.slice(1));
      this.seriesInPreviousEval[i] = from.seriesInPreviousEval[fi]!;
      const old = from.rules[fi]!;
      if (r instanceof AlertingRule && old instanceof AlertingRule) {
        for (const [fp, a] of old.active) r.active.set(fp, a);
        r.restored = r.restored || old.restored;
      }
    });
    this.lastEvaluation = from.lastEvaluation;
    this.evaluationTime = from.evaluationTime;
    this.staleSeries = [...from.staleSeries];
    for (const idx of byKey.values()) for (const fi of idx) this.staleSeries.push(...from.seriesInPreviousEval[fi]!.values());
    this.evaluations = Math.max(this.evaluations, from.evaluations);
    this.shouldRestore = this.shouldRestore && from.shouldRestore;
  }

  /** seriesToMarkStale lists the series to mark stale when this group is removed by a reload. */
  seriesToMarkStale(): Labels[] {
    return [...this.staleSeries, ...this.seriesInPreviousEval.flatMap((m) => [...m.values()])];
  }

  /**
   * evalTimestamp is the latest evaluation instant at or before now (ms): evaluations happen at
   * k × interval + offset, the offset spread by a hash of file and group name.
   */
  evalTimestamp(now: number): number {
    const interval = this.options.interval;
    let h = 0x811c9dc5;
    for (const c of `${this.file}\u0000${this.name}`) {
      h ^= c.codePointAt(0)!;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    const offset = h % interval;
    const adj = now - offset;
    return adj - (((adj % interval) + interval) % interval) + offset;
  }
}
