import type { Registry } from 'prom-client';
import { nopLogger, relabel, type Logger, type RelabelConfig } from '../block/index.js';
import { isTesseraError } from '../errors/index.js';
import { Labels } from '../labels/index.js';
import { format, parseExpr } from '../promql/index.js';
import {
  AlertmanagerSender,
  RuleManager,
  TemplateExpander,
  httpQueryFunc,
  readRuleFiles,
  toAlertmanagerAlerts,
  type AlertmanagerSenderOptions,
  type AlertmanagerAlert,
  type ClockDeps,
  type ForStateLookup,
  type HttpTarget,
  type RuleGroup,
  type RuleGroupDeps,
  type RuleQueryFunc,
  type RuleSample,
} from '../rules/index.js';
import type { Appendable } from '../storage/index.js';
import { RulerError, RulerErrorCode } from './errors.js';
import { RulerMetrics } from './ruler-metrics.js';

/** PartialResponseStrategy is Thanos's per-group partial_response_strategy. */
export type PartialResponseStrategy = 'warn' | 'abort';

/** RulerOptions wire the ruler to its rule files, query path, storage and Alertmanagers (durations in ms). */
export interface RulerOptions {
  /** --rule-file patterns (globs), read on start and on every reload. */
  readonly ruleFiles: readonly string[];
  /**
   * queryEndpoints returns the current query API addresses (`host:port`, URLs, or targets with
   * their own HTTP client from --query.config) for HTTP evaluation (Thanos --query); ignored when
   * queryFunc is given.
   */
  readonly queryEndpoints?: () => readonly (string | HttpTarget)[];
  /** HTTP method of rule queries (Thanos --query.http-method, POST). */
  readonly queryHttpMethod?: 'POST' | 'GET';
  /** queryFunc evaluates rules for a group's strategy another way (e.g. the embedded engine over StoreAPI endpoints). */
  readonly queryFunc?: (strategy: PartialResponseStrategy) => RuleQueryFunc;
  /** appendable receives recorded series, ALERTS and ALERTS_FOR_STATE (without the ruler's labels, as Thanos). */
  readonly appendable: Appendable;
  /** forState reads ALERTS_FOR_STATE back from the ruler's storage to restore alerts after a restart. */
  readonly forState?: ForStateLookup;
  /** Alertmanager base URLs (path prefix included), or targets with their own HTTP client and timeout: the current list. */
  readonly alertmanagers: () => readonly (string | HttpTarget)[];
  readonly alertmanagerTimeout?: number;
  /** the ruler's labels (--label): set on alerts sent, seen as $externalLabels by templates. */
  readonly labels: Labels;
  /** --alert.label-drop: removed from alerts before sending. */
  readonly alertLabelDrop?: readonly string[];
  /** --alert.relabel-config: applied to sent alerts after the labels are set and dropped; an alert relabelled away is not sent. */
  readonly alertRelabel?: readonly RelabelConfig[];
  /** base of alerts' generatorURL and $externalURL (--alert.query-url). */
  readonly alertQueryURL: string;
  /**
   * alertQueryLink makes the rest of generatorURL from the expression (--alert.query-template, see
   * alertQueryTemplate); default `/graph?g0.expr=<expr>&g0.tab=1`.
   */
  readonly alertQueryLink?: (expr: string) => Promise<string>;
  readonly evalInterval: number;
  readonly queryOffset?: number;
  readonly resendDelay: number;
  readonly forGracePeriod: number;
  readonly forOutageTolerance: number;
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly clock?: ClockDeps;
  /** overrides of the Alertmanager sender (backoff, sleep) for tests. */
  readonly sender?: Partial<Pick<AlertmanagerSenderOptions, 'minBackoffMs' | 'maxBackoffMs' | 'sleep' | 'batchSize' | 'capacity'>>;
}

/** ReloadStatus is the outcome of the last rule-file (re)load. */
export interface ReloadStatus {
  readonly ok: boolean;
  /** every problem, each naming file and line; empty when ok. */
  readonly errors: readonly string[];
  /** when it happened (ms). */
  readonly at: number;
}

const realClock: ClockDeps = {
  now: () => Date.now(),
  sleepUntil: (t, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, t - Date.now()));
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    }),
};

/**
 * Ruler is the Thanos ruler's core: it evaluates Prometheus rule files through the query path
 * (HTTP query APIs or an embedded engine), appends recorded series and ALERTS/ALERTS_FOR_STATE to
 * its storage, restores `for` state from ALERTS_FOR_STATE after a restart, and sends alerts to
 * every Alertmanager with its labels set and --alert.label-drop labels removed. reload() re-reads
 * the rule files; a bad file keeps the old rules and is reported (log, metric, reloadStatus()).
 */
export class Ruler {
  readonly metrics: RulerMetrics;
  readonly manager: RuleManager;
  private readonly logger: Logger;
  private readonly sender: AlertmanagerSender;
  private readonly expander: TemplateExpander;
  private readonly externalLabels: ReadonlyMap<string, string>;
  private readonly queries = new Map<PartialResponseStrategy, RuleQueryFunc>();
  /** rendered alertQueryLink paths by expression. */
  private readonly links = new Map<string, string>();
  private status: ReloadStatus = { ok: false, errors: ['rule files not loaded yet'], at: 0 };
  private started = false;

  constructor(private readonly opts: RulerOptions) {
    this.logger = opts.logger ?? nopLogger;
    this.metrics = new RulerMetrics(opts.registry);
    this.manager = new RuleManager({
      defaultInterval: opts.evalInterval,
      defaultQueryOffset: opts.queryOffset ?? 0,
      resendDelay: opts.resendDelay,
      restoreOptions: { outageTolerance: opts.forOutageTolerance, gracePeriod: opts.forGracePeriod },
      fileOptions: { thanos: true, positions: true },
    });
    this.sender = new AlertmanagerSender({
      urls: opts.alertmanagers,
      ...(opts.alertmanagerTimeout === undefined ? {} : { timeoutMs: opts.alertmanagerTimeout }),
      userAgent: 'Tessera-Ruler',
      ...opts.sender,
      onError: (url, err) => {
        this.metrics.alertSendErrors.inc({ alertmanager: url });
        this.logger.warn('sending alerts to Alertmanager', { alertmanager: url, err });
      },
    });
    this.metrics.senderStats = this.sender.stats;
    this.expander = new TemplateExpander({ externalURL: opts.alertQueryURL });
    this.externalLabels = new Map(opts.labels.toArray().map((l) => [l.name, l.value] as const));
  }

  /** start loads the rule files (throwing a RulerError naming every problem) and starts evaluating. */
  async start(): Promise<void> {
    const st = await this.reload();
    if (!st.ok) throw new RulerError(RulerErrorCode.RuleFiles, `load rule files: ${st.errors.join('\n')}`);
    this.manager.run((g) => this.deps(g), this.opts.clock ?? realClock, {
      printExpr: printExpr,
      onError: (g, err) => {
        this.metrics.evaluationFailures.inc({ rule_group: groupLabel(g) });
        this.logger.error('rule group evaluation', { file: g.file, group: g.name, err });
      },
      onEval: (g, ts, res, ms) => {
        const rg = groupLabel(g);
        this.metrics.evaluations.inc({ rule_group: rg }, g.rules.length);
        if (res.failedRules > 0) this.metrics.evaluationFailures.inc({ rule_group: rg }, res.failedRules);
        this.metrics.groupLastEvaluation.set({ rule_group: rg }, ts / 1000);
        this.metrics.groupLastDuration.set({ rule_group: rg }, ms / 1000);
        this.metrics.evaluationDuration.observe(ms / 1000);
        for (const r of g.rules) {
          if (r.health === 'err' && r.lastEvaluation === ts) this.logger.warn('rule evaluation', { file: g.file, group: g.name, rule: r.name, err: r.lastError });
        }
      },
    });
    this.started = true;
  }

  /** ready reports whether rules are loaded and being evaluated. */
  ready(): boolean {
    return this.started;
  }

  /** groups are the loaded rule groups (for the rules and alerts APIs). */
  groups(): RuleGroup[] {
    return this.manager.groups();
  }

  /** reloadStatus is the outcome of the last (re)load. */
  reloadStatus(): ReloadStatus {
    return this.status;
  }

  /**
   * reload re-reads the rule files. A file that cannot be read or is invalid keeps the old rules;
   * the error is logged, thanos_rule_config_last_reload_successful goes to 0 and reloadStatus()
   * carries the messages (file and line).
   */
  async reload(): Promise<ReloadStatus> {
    let errors: string[];
    try {
      const files = await readRuleFiles(this.opts.ruleFiles);
      if (files.length === 0) this.logger.warn('no rule file matches', { patterns: this.opts.ruleFiles.join(',') });
      const res = await this.manager.update(files);
      errors = res.errors;
      if (errors.length === 0 && res.removedSeries.length > 0) {
        await this.append(res.removedSeries).catch((err: unknown) => this.logger.warn('appending stale markers of removed rules', { err }));
      }
    } catch (err) {
      errors = [isTesseraError(err) || err instanceof Error ? err.message : String(err)];
    }
    const hadRules = this.manager.groups().length > 0 || this.started;
    this.status = { ok: errors.length === 0, errors, at: Date.now() };
    if (errors.length > 0) {
      this.metrics.configLastReloadSuccessful.set(0);
      for (const e of errors) this.logger.error(hadRules ? 'reloading rule files; the previous rules stay in place' : 'loading rule files', { err: e });
      return this.status;
    }
    this.metrics.configLastReloadSuccessful.set(1);
    this.metrics.configLastReloadSuccessTimestamp.set(this.status.at / 1000);
    this.metrics.loadedRules.reset();
    this.metrics.groupInterval.reset();
    this.metrics.groupRules.reset();
    for (const g of this.manager.groups()) {
      const strategy = g.options.partialResponseStrategy ?? 'abort';
      this.metrics.loadedRules.inc({ file: g.file, group: g.name, strategy }, g.rules.length);
      this.metrics.groupInterval.set({ rule_group: groupLabel(g) }, g.options.interval / 1000);
      this.metrics.groupRules.set({ rule_group: groupLabel(g) }, g.rules.length);
    }
    this.logger.info('rule files loaded', { groups: this.manager.groups().length, rules: this.manager.groups().reduce((n, g) => n + g.rules.length, 0) });
    return this.status;
  }

  /** stop ends evaluation (waiting for evaluations in flight), then gives queued alerts up to flushMs to be delivered. */
  async stop(flushMs = 5000): Promise<void> {
    this.started = false;
    await this.manager.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.sender.idle(), new Promise<void>((r) => (timer = setTimeout(r, flushMs)))]);
    clearTimeout(timer);
    this.sender.close();
  }

  private query(strategy: PartialResponseStrategy): RuleQueryFunc {
    let q = this.queries.get(strategy);
    if (q !== undefined) return q;
    if (this.opts.queryFunc !== undefined) q = this.opts.queryFunc(strategy);
    else {
      const endpoints = this.opts.queryEndpoints ?? (() => []);
      q = (expr, t) =>
        httpQueryFunc({
          endpoints: endpoints(),
          partialResponse: strategy === 'warn',
          ...(this.opts.queryHttpMethod === undefined ? {} : { method: this.opts.queryHttpMethod }),
          onWarnings: (endpoint, warnings) => {
            this.metrics.evaluationWarnings.inc({ strategy });
            this.logger.warn('rule query answered with warnings', { endpoint, warnings: warnings.join('; '), query: expr });
          },
          onError: (endpoint, err) => {
            this.metrics.queriesFailed.inc({ endpoint });
            this.logger.debug('rule query endpoint failed', { endpoint, err });
          },
        })(expr, t);
    }
    this.queries.set(strategy, q);
    return q;
  }

  private deps(g: RuleGroup): RuleGroupDeps {
    return {
      query: this.query(g.options.partialResponseStrategy ?? 'abort'),
      append: (samples) => this.append(samples),
      notify: (expr, alerts) => {
        // Without Alertmanagers there is nowhere to send: alerts are only recorded (ALERTS series, API).
        if (this.opts.alertmanagers().length === 0) return;
        const link = this.opts.alertQueryLink;
        if (link === undefined) return this.sendAlerts(expr, alerts, undefined);
        const cached = this.links.get(expr);
        if (cached !== undefined) return this.sendAlerts(expr, alerts, cached);
        void link(expr).then(
          (path) => {
            if (this.links.size > 10_000) this.links.clear();
            this.links.set(expr, path);
            this.sendAlerts(expr, alerts, path);
          },
          (err: unknown) => {
            this.logger.warn('failed to generate link for expression', { expr, err });
            this.sendAlerts(expr, alerts, '');
          },
        );
      },
      templates: { expander: this.expander, externalLabels: this.externalLabels, externalURL: this.opts.alertQueryURL },
      ...(this.opts.forState === undefined ? {} : { forStateLookup: this.opts.forState }),
    };
  }

  /** sendAlerts queues a rule's alerts for the Alertmanagers; linkPath (from alertQueryLink) follows --alert.query-url in generatorURL. */
  private sendAlerts(expr: string, alerts: Parameters<typeof toAlertmanagerAlerts>[1], linkPath: string | undefined): void {
    let out: AlertmanagerAlert[] = toAlertmanagerAlerts(expr, alerts, {
      externalURL: this.opts.alertQueryURL,
      externalLabels: this.opts.labels,
      mode: 'thanos',
      ...(this.opts.alertLabelDrop === undefined ? {} : { dropLabels: this.opts.alertLabelDrop }),
      ...(linkPath === undefined ? {} : { generatorURL: this.opts.alertQueryURL + linkPath }),
    });
    const rules = this.opts.alertRelabel ?? [];
    if (rules.length > 0) {
      out = out.flatMap((a) => {
        const ls = relabel(Labels.fromRecord(a.labels), rules);
        return ls === undefined || ls.isEmpty() ? [] : [{ ...a, labels: ls.toRecord() }];
      });
    }
    this.sender.send(out);
  }

  /** append writes one rule's samples (floats, native histograms) as one transaction; samples the storage refuses are counted and skipped. */
  private async append(samples: readonly RuleSample[]): Promise<void> {
    if (samples.length === 0) return;
    const app = this.opts.appendable.appender();
    try {
      for (const s of samples) {
        try {
          if (s.h === undefined) app.append(0, s.labels, s.t, s.v);
          else app.appendHistogram(0, s.labels, s.t, s.h);
        } catch (err) {
          if (!isTesseraError(err)) throw err;
          this.metrics.appendFailures.inc({ reason: err.code });
          this.logger.debug('rule sample refused by storage', { series: s.labels.toString(), t: s.t, err });
        }
      }
    } catch (err) {
      await app.rollback();
      throw err;
    }
    await app.commit();
  }
}

function groupLabel(g: RuleGroup): string {
  return `${g.file};${g.name}`;
}

/** printExpr prints an expression as Prometheus does for generatorURL (parsed, printed back). */
function printExpr(expr: string): string {
  try {
    return format(parseExpr(expr));
  } catch {
    return expr;
  }
}
