import type { Labels } from '../labels/index.js';

/** RuleSample is one sample a query returns or a rule produces (t in milliseconds). */
export interface RuleSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

/** RuleQueryFunc runs an instant query at t (ms) and returns its vector (a scalar as one sample with no labels). */
export type RuleQueryFunc = (expr: string, t: number) => Promise<RuleSample[]>;

/** RuleHealth is a rule's health as the rules API reports it. */
export type RuleHealth = 'unknown' | 'ok' | 'err';
