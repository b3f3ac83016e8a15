import { RuleGroup, type RuleGroupDeps } from './rule-group.js';
import { parseRuleFile, type RuleFileOptions } from './rule-file.js';
import type { RestoreOptions } from './alerting-rule.js';
import type { RuleSample } from './rule-types.js';
import { staleNaN } from '../promql/index.js';

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

/**
 * RuleManager holds the groups of a set of rule files. update() parses all files and swaps the
 * groups in only when every file is valid (a bad file on reload keeps the old rules); groups that
 * survive a reload keep their alert state (copyState), removed groups' series are marked stale.
 * The first load restores `for` state from ALERTS_FOR_STATE; later loads do not.
 */
export class RuleManager {
  private groupsByKey = new Map<string, RuleGroup>();
  private loaded = false;
  private runs = new Map<RuleGroup, AbortController>();
  private running: { deps: RuleGroupDeps; clock: ClockDeps; printExpr?: (e: string) => string; onError?: (g: RuleGroup, err: Error) => void } | undefined;

  constructor(private readonly opts: RuleManagerOptions) {}

  /** groups in file order, then group order. */
  groups(): RuleGroup[] {
    return [...this.groupsByKey.values()];
  }

  /** update loads the rule files; see the class comment. Returns stale-marker samples of removed groups to append. */
  update(files: readonly RuleFileSource[]): RuleManagerUpdate & { removedSeries: RuleSample[] } {
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
    const removedSeries: RuleSample[] = [];
    for (const [k, old] of this.groupsByKey) {
      const g = next.get(k);
      if (g !== undefined) g.copyState(old);
      else {
        const t = this.running?.clock.now() ?? Date.now();
        for (const labels of old.seriesToMarkStale()) removedSeries.push({ labels, t, v: staleNaN });
      }
      this.stopGroup(old);
    }
    this.groupsByKey = next;
    this.loaded = true;
    if (this.running !== undefined) for (const g of next.values()) this.startGroup(g);
    return { errors: [], groups: next.size, rules, removedSeries };
  }

  /** run starts evaluating every group on its aligned schedule; stop() ends it. */
  run(deps: RuleGroupDeps, clock: ClockDeps, printExpr?: (e: string) => string, onError?: (g: RuleGroup, err: Error) => void): void {
    this.running = { deps, clock, ...(printExpr === undefined ? {} : { printExpr }), ...(onError === undefined ? {} : { onError }) };
    for (const g of this.groupsByKey.values()) this.startGroup(g);
  }

  /** stop ends every group's schedule. */
  stop(): void {
    for (const g of [...this.runs.keys()]) this.stopGroup(g);
    this.running = undefined;
  }

  private stopGroup(g: RuleGroup): void {
    this.runs.get(g)?.abort();
    this.runs.delete(g);
  }

  private startGroup(g: RuleGroup): void {
    const r = this.running;
    if (r === undefined || this.runs.has(g)) return;
    const ac = new AbortController();
    this.runs.set(g, ac);
    void (async () => {
      const interval = g.options.interval;
      let next = g.evalTimestamp(r.clock.now()) + interval;
      while (!ac.signal.aborted) {
        await r.clock.sleepUntil(next, ac.signal);
        if (ac.signal.aborted) break;
        // Missed ticks are skipped: evaluate at the latest aligned instant (as Prometheus does).
        const now = r.clock.now();
        if (now >= next + interval) next = g.evalTimestamp(now);
        try {
          await g.eval(next, r.deps, r.printExpr);
        } catch (err) {
          // storage failures: the group goes on at its next tick
          r.onError?.(g, err as Error);
        }
        next += interval;
      }
    })();
  }
}

function groupKey(file: string, name: string): string {
  return `${file}\u0000${name}`;
}
