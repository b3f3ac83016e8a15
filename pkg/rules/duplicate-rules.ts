import type { RuleGroupDef } from './rule-file.js';

/** DuplicateRule is a rule name and label set that occurs more than once in a file. */
export interface DuplicateRule {
  readonly metric: string;
  readonly labels: readonly [string, string][];
}

function compareLabels(a: readonly [string, string][], b: readonly [string, string][]): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const [an, av] = a[i]!;
    const [bn, bv] = b[i]!;
    if (an !== bn) return an < bn ? -1 : 1;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * findDuplicateRules lists rules of a file sharing name (record/alert) and labels, once per extra
 * occurrence, as `promtool check rules` lints them (a finding, not an error: Prometheus loads both).
 */
export function findDuplicateRules(groups: readonly RuleGroupDef[]): DuplicateRule[] {
  const all: DuplicateRule[] = [];
  for (const g of groups) {
    for (const r of g.rules) {
      const metric = r.alert !== undefined && r.alert !== '' ? r.alert : (r.record ?? '');
      const labels = Object.entries(r.labels).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      all.push({ metric, labels });
    }
  }
  all.sort((a, b) => (a.metric !== b.metric ? (a.metric < b.metric ? -1 : 1) : compareLabels(a.labels, b.labels)));
  const dups: DuplicateRule[] = [];
  for (let i = 1; i < all.length; i++) {
    const a = all[i - 1]!;
    const b = all[i]!;
    if (a.metric === b.metric && compareLabels(a.labels, b.labels) === 0) dups.push(b);
  }
  return dups;
}

/** formatDuplicateRules renders the lint finding as promtool prints it. */
export function formatDuplicateRules(dups: readonly DuplicateRule[]): string {
  let out = `lint error ${dups.length} duplicate rule(s) found.\n`;
  for (const d of dups) {
    out += `Metric: ${d.metric}\nLabel(s):\n`;
    for (const [n, v] of d.labels) out += `\t${n}: ${v}\n`;
  }
  return out + 'Might cause inconsistency while recording expressions\n';
}
