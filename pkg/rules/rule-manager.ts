import { RuleGroup, type RuleGroupDeps, type RuleGroupEvalResult } from './rule-group.js';
import { parseRuleFile, type RuleFileOptions } from './rule-file.js';
import type { RestoreOptions } from './alerting-rule.js';
import type { RuleSample } from './rule-types.js';
import { staleNaN } from '../promql/index.js';
import { snapshotRuleGroups, type RulesSnapshot } from './rules-snapshot.js';

/** RuleFileSource is one rule file's path and content. */
export interface RuleFileSource {
  readonly path: string;
  readonly text: string;
}

/** RuleManagerOptions are the defaults of every group (ms). */
export interface RuleManagerOptions {
  readonly defaultInterval: number;
  readonly defaultQueryOffset: number;
  readonly resendDelay: number;
  readonly restoreOptions: RestoreOptions;
  readonly fileOptions?: RuleFileOptions;
}

/** RuleManagerUpdate is the outcome of loading rule files. */
export interface RuleManagerUpdate {
  /** every problem of every file; when non-empty the previous groups stay in place. */
  readonly errors: string[];
  readonly groups: number;
  readonly rules: number;
}

/** ClockDeps let the scheduler run on a fake clock in tests. */
export interface ClockDeps {
  readonly now: () => number;
  /** waits until the given time (ms) or until the signal aborts. */
  readonly sleepUntil: (t: number, signal: AbortSignal) => Promise<void>;
}

/** RuleManagerRunOptions are the optional hooks of run(). */
export interface RuleManagerRunOptions {
  /** prints an expression for generatorURL (default: as written). */
  readonly printExpr?: (expr: string) => string;
  /** a group's evaluation threw (storage failure); the group goes on at its next tick. */
  readonly onError?: (g: RuleGroup, err: Error) => void;
  /** a group finished an evaluation at ts (ms) that took durationMs. */
  readonly onEval?: (g: RuleGroup, ts: number, result: RuleGroupEvalResult, durationMs: number) => void;
}

/**
 * RuleManager holds the groups of a set of rule files. update() parses all files and swaps the
 * groups in only when every file is valid (a bad file on reload keeps the old rules); groups that
 * survive a reload keep their alert state (copyState), removed groups' series are marked stale.
 * The first load restores `for` state from ALERTS_FOR_STATE; later loads do not.
 *
 * Reloads are serialised, and a reload waits for the in-flight evaluation of every group it
 * replaces to end before it copies that group's state (so no evaluation of an old group can change
 * alerts after the new group took them over).
 */
export class RuleManager {
  private groupsByKey = new Map<string, RuleGroup>();
  private loaded = false;
  private runs = new Map<RuleGroup, { ac: AbortController; done: Promise<void> }>();
  private running: { deps: (g: RuleGroup) => RuleGroupDeps; clock: ClockDeps; opts: RuleManagerRunOptions } | undefined;
  private updating: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: RuleManagerOptions) {}

  /** groups in file order, then group order. */
  groups(): RuleGroup[] {
    return [...this.groupsByKey.values()];
  }

  /** snapshot captures the state of every group and rule (see RulesSnapshot), in group order. */
  snapshot(printExpr?: (expr: string) => string): RulesSnapshot {
    return snapshotRuleGroups(this.groups(), printExpr);
  }

  /** update loads the rule files; see the class comment. Returns stale-marker samples of removed groups to append. */
  update(files: readonly RuleFileSource[]): Promise<RuleManagerUpdate & { removedSeries: RuleSample[] }> {
    const p = this.updating.then(() => this.doUpdate(files));
    this.updating = p.catch(() => {});
    return p;
  }

  private async doUpdate(files: readonly RuleFileSource[]): Promise<RuleManagerUpdate & { removedSeries: RuleSample[] }> {
    const errors: string[] = [];
    const next = new Map<string, RuleGroup>();
    let rules = 0;
    for (const f of files) {
      const parsed = parseRuleFile(f.text, f.path, this.opts.fileOptions);
      errors.push(...parsed.errors);
      if (parsed.errors.length > 0) continue;
      for (const def of parsed.groups) {
        const g = RuleGroup.fromDef(def, f.path, {
          defaultInterval: this.opts.defaultInterval,
          defaultQueryOffset: this.opts.defaultQueryOffset,
          resendDelay: this.opts.resendDelay,
          restore: !this.loaded,
          restoreOptions: this.opts.restoreOptions,
        });
        next.set(groupKey(f.path, def.name), g);
        rules += g.rules.length;
      }
    }
    if (errors.length > 0) return { errors, groups: this.groupsByKey.size, rules: this.groups().reduce((n, g) => n + g.rules.length, 0), removedSeries: [] };
    // Stop every old group and wait for its in-flight evaluation before taking its state over.
    await Promise.all([...this.groupsByKey.values()].map((g) => this.stopGroup(g)));
    const removedSeries: RuleSample[] = [];
    for (const [k, old] of this.groupsByKey) {
      const g = next.get(k);
      if (g !== undefined) g.copyState(old);
      else {
        const t = this.running?.clock.now() ?? Date.now();
        for (const labels of old.seriesToMarkStale()) removedSeries.push({ labels, t, v: staleNaN });
      }
    }
    this.groupsByKey = next;
    this.loaded = true;
    if (this.running !== undefined) for (const g of next.values()) this.startGroup(g);
    return { errors: [], groups: next.size, rules, removedSeries };
  }

  /**
   * run starts evaluating every group on its aligned schedule; stop() ends it. deps may depend on
   * the group (e.g. its partial-response strategy).
   */
  run(deps: RuleGroupDeps | ((g: RuleGroup) => RuleGroupDeps), clock: ClockDeps, opts: RuleManagerRunOptions = {}): void {
    this.running = { deps: typeof deps === 'function' ? deps : () => deps, clock, opts };
    for (const g of this.groupsByKey.values()) this.startGroup(g);
  }

  /** stop ends every group's schedule and resolves once no evaluation is in flight. */
  async stop(): Promise<void> {
    this.running = undefined;
    await Promise.all([...this.runs.keys()].map((g) => this.stopGroup(g)));
  }

  private async stopGroup(g: RuleGroup): Promise<void> {
    const r = this.runs.get(g);
    if (r === undefined) return;
    this.runs.delete(g);
    r.ac.abort();
    await r.done;
  }

  private startGroup(g: RuleGroup): void {
    const r = this.running;
    if (r === undefined || this.runs.has(g)) return;
    const ac = new AbortController();
    const deps = r.deps(g);
    const done = (async () => {
      const interval = g.options.interval;
      let next = g.evalTimestamp(r.clock.now()) + interval;
      while (!ac.signal.aborted) {
        await r.clock.sleepUntil(next, ac.signal);
        if (ac.signal.aborted) break;
        // Missed ticks are skipped: evaluate at the latest aligned instant (as Prometheus does).
        const now = r.clock.now();
        if (now >= next + interval) next = g.evalTimestamp(now);
        const started = performance.now();
        try {
          const res = await g.eval(next, deps, r.opts.printExpr);
          r.opts.onEval?.(g, next, res, performance.now() - started);
        } catch (err) {
          // storage failures: the group goes on at its next tick
          r.opts.onError?.(g, err as Error);
        }
        next += interval;
      }
    })();
    this.runs.set(g, { ac, done });
  }
}

function groupKey(file: string, name: string): string {
  return `${file}\u0000${name}`;
}
