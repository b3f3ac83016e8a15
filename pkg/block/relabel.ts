import { createHash } from 'node:crypto';
import { RE2JS } from 're2js';
import { parse as parseYaml } from 'yaml';
import { Labels, LabelsBuilder } from '../labels/index.js';
import { BlockErrorCode, ThanosBlockError } from './block-errors.js';

/** RelabelAction is a Prometheus relabel action. */
export type RelabelAction = 'replace' | 'keep' | 'drop' | 'keepequal' | 'dropequal' | 'hashmod' | 'labelmap' | 'labeldrop' | 'labelkeep' | 'lowercase' | 'uppercase';

const ACTIONS = new Set<RelabelAction>(['replace', 'keep', 'drop', 'keepequal', 'dropequal', 'hashmod', 'labelmap', 'labeldrop', 'labelkeep', 'lowercase', 'uppercase']);

/** RelabelConfig is one compiled Prometheus relabel rule (`relabel_config`). */
export interface RelabelConfig {
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  readonly targetLabel: string;
  readonly regex: RE2JS;
  readonly modulus: number;
  readonly replacement: string;
  readonly action: RelabelAction;
}

const bad = (msg: string): never => {
  throw new ThanosBlockError(BlockErrorCode.RelabelConfig, `parse relabel config: ${msg}`);
};

/**
 * parseRelabelConfigs parses a YAML list of Prometheus relabel configs (the content of
 * `--selector.relabel-config` or the file of `--selector.relabel-config-file`). Empty text is an
 * empty list. Regexps are RE2, fully anchored, with Prometheus's defaults (regex `(.*)`,
 * separator `;`, replacement `$1`, action replace).
 */
export function parseRelabelConfigs(text: string): RelabelConfig[] {
  if (text.trim() === '') return [];
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ThanosBlockError(BlockErrorCode.RelabelConfig, `parse relabel config: ${(err as Error).message}`, { cause: err });
  }
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) bad('want a YAML list of relabel rules');
  return (raw as unknown[]).map((r, i) => compileRule(r, i));
}

function compileRule(r: unknown, i: number): RelabelConfig {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) bad(`rule ${i} is not a map`);
  const o = r as Record<string, unknown>;
  const action = (typeof o['action'] === 'string' ? o['action'].toLowerCase() : 'replace') as RelabelAction;
  if (!ACTIONS.has(action)) bad(`rule ${i}: unknown relabel action ${JSON.stringify(o['action'])}`);
  const src = o['source_labels'] ?? [];
  if (!Array.isArray(src) || !src.every((s) => typeof s === 'string')) bad(`rule ${i}: source_labels must be a list of strings`);
  const regexStr = o['regex'] === undefined || o['regex'] === null ? '(.*)' : String(o['regex']);
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(`^(?s:${regexStr})$`);
  } catch (err) {
    throw new ThanosBlockError(BlockErrorCode.RelabelConfig, `parse relabel config: rule ${i}: invalid regex ${JSON.stringify(regexStr)}: ${(err as Error).message}`, { cause: err });
  }
  const cfg: RelabelConfig = {
    sourceLabels: src as string[],
    separator: typeof o['separator'] === 'string' ? o['separator'] : ';',
    targetLabel: typeof o['target_label'] === 'string' ? o['target_label'] : '',
    regex,
    modulus: typeof o['modulus'] === 'number' ? o['modulus'] : 0,
    replacement: o['replacement'] === undefined || o['replacement'] === null ? '$1' : String(o['replacement']),
    action,
  };
  if ((action === 'replace' || action === 'hashmod' || action === 'lowercase' || action === 'uppercase' || action === 'keepequal' || action === 'dropequal') && cfg.targetLabel === '') {
    bad(`rule ${i}: relabel configuration for ${action} action requires 'target_label' value`);
  }
  if (action === 'hashmod' && !(cfg.modulus > 0)) bad(`rule ${i}: relabel configuration for hashmod requires non-zero modulus`);
  return cfg;
}

/** Expands $1, ${1}, $name templates of a replacement with the groups of a successful match. */
function expand(template: string, m: ReturnType<RE2JS['matcher']>): string {
  return template.replace(/\$(?:\{(\w+)\}|(\w+))|\$\$/g, (all, braced: string | undefined, plain: string | undefined) => {
    if (all === '$$') return '$';
    const name = braced ?? plain ?? '';
    const g = /^\d+$/.test(name) ? m.group(Number(name)) : safeGroup(m, name);
    return g ?? '';
  });
}

function safeGroup(m: ReturnType<RE2JS['matcher']>, name: string): string | null {
  try {
    return m.group(name);
  } catch {
    return null;
  }
}

const labelNameRe = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * relabel applies the rules to ls in order, as Prometheus's relabel.Process does. It returns
 * undefined when a keep/drop rule drops the label set.
 */
export function relabel(ls: Labels, rules: readonly RelabelConfig[]): Labels | undefined {
  if (rules.length === 0) return ls;
  const b = new LabelsBuilder(ls);
  for (const r of rules) {
    const val = r.sourceLabels.map((n) => b.get(n)).join(r.separator);
    switch (r.action) {
      case 'drop':
        if (r.regex.matcher(val).matches()) return undefined;
        break;
      case 'keep':
        if (!r.regex.matcher(val).matches()) return undefined;
        break;
      case 'dropequal':
        if (b.get(r.targetLabel) === val) return undefined;
        break;
      case 'keepequal':
        if (b.get(r.targetLabel) !== val) return undefined;
        break;
      case 'replace': {
        const m = r.regex.matcher(val);
        if (!m.matches()) break;
        const target = expand(r.targetLabel, m);
        if (!labelNameRe.test(target)) break;
        const res = expand(r.replacement, m);
        if (res === '') b.del(target);
        else b.set(target, res);
        break;
      }
      case 'lowercase':
        b.set(r.targetLabel, val.toLowerCase());
        break;
      case 'uppercase':
        b.set(r.targetLabel, val.toUpperCase());
        break;
      case 'hashmod': {
        const sum = createHash('md5').update(val).digest();
        const mod = sum.readBigUInt64BE(8) % BigInt(r.modulus);
        b.set(r.targetLabel, mod.toString());
        break;
      }
      case 'labelmap': {
        const cur = b.labels();
        cur.forEach((n, v) => {
          const m = r.regex.matcher(n);
          if (m.matches()) b.set(expand(r.replacement, m), v);
        });
        break;
      }
      case 'labeldrop':
      case 'labelkeep': {
        const cur = b.labels();
        cur.forEach((n) => {
          const hit = r.regex.matcher(n).matches();
          if (hit === (r.action === 'labeldrop')) b.del(n);
        });
        break;
      }
    }
  }
  return b.labels();
}
