import type { FloatHistogram } from '../histogram/index.js';
import type { Labels } from '../labels/index.js';

/**
 * RuleSample is one sample a query returns or a rule produces (t in milliseconds). A native
 * histogram sample carries h (v is then 0, as a PromQL sample's F, which alert templates see as $value).
 */
export interface RuleSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
  readonly h?: FloatHistogram;
}

/** RuleQueryFunc runs an instant query at t (ms) and returns its vector (a scalar as one sample with no labels). */
export type RuleQueryFunc = (expr: string, t: number) => Promise<RuleSample[]>;

/** RuleHealth is a rule's health as the rules API reports it. */
export type RuleHealth = 'unknown' | 'ok' | 'err';
