import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Node, type Pair } from 'yaml';
import { parseExpr } from '../promql/index.js';
import { parseModelDuration } from './model-duration.js';
import { ALERT_TEMPLATE_DEFS, ALERT_TEMPLATE_FUNCS } from './template-funcs.js';
import { parseTemplate } from './template-parse.js';

/** Position is a 1-based line and column in a rule file; 0:0 when the node is missing. */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** RuleDef is one rule of a rule file, as written (durations in milliseconds). */
export interface RuleDef {
  readonly record: string | undefined;
  readonly alert: string | undefined;
  readonly expr: string;
  readonly for: number;
  readonly keepFiringFor: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly pos: Position;
}

/** RuleGroupDef is one group of a rule file (durations in milliseconds; undefined = default). */
export interface RuleGroupDef {
  readonly name: string;
  readonly interval: number | undefined;
  readonly queryOffset: number | undefined;
  readonly limit: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Thanos's partial_response_strategy (`warn`/`abort`, lower-cased), when allowed and given. */
  readonly partialResponseStrategy: string | undefined;
  readonly rules: RuleDef[];
  readonly pos: Position;
}

/** RuleFileParseResult holds the groups of a file and every problem found, each line naming the file. */
export interface RuleFileParseResult {
  readonly groups: RuleGroupDef[];
  /** promtool-shaped messages: `<file>: <line>:<col>: group "g", rule 1, "name": <problem>`. */
  readonly errors: string[];
}

/** RuleFileOptions tune parsing. */
export interface RuleFileOptions {
  /** allow Thanos's group key `partial_response_strategy` (the Thanos ruler does; Prometheus does not). */
  readonly thanos?: boolean;
  /**
   * positions: also give the line:col of the label or annotation value for label, annotation and
   * template problems (promtool prints none; the ruler does, so every error names file and line).
   */
  readonly positions?: boolean;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

class FatalYamlError extends Error {}

/**
 * parseRuleFile parses and validates a Prometheus rule file as `promtool check rules` does: strict
 * YAML (unknown keys are errors), then every group and rule checked, all problems reported.
 * Only the first YAML document is read.
 */
export function parseRuleFile(text: string, file: string, options: RuleFileOptions = {}): RuleFileParseResult {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true });
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  if (doc === undefined) return { groups: [], errors: [] };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0].line ?? lc.linePos(e.pos[0]).line;
    return { groups: [], errors: [`${file}: yaml: line ${line}: ${e.message.split('\n')[0]}`] };
  }
  const posOf = (n: Node | null | undefined): Position => {
    const off = n?.range?.[0];
    if (off === undefined) return { line: 0, col: 0 };
    const p = lc.linePos(off);
    return { line: p.line, col: p.col };
  };
  const unmarshal: string[] = [];
  const typeName = (n: Node): string => (isMap(n) ? '!!map' : isSeq(n) ? '!!seq' : isScalar(n) ? (typeof n.value === 'number' ? (Number.isInteger(n.value) ? '!!int' : '!!float') : typeof n.value === 'boolean' ? '!!bool' : n.value === null ? '!!null' : '!!str') : '!!?');
  const scalarText = (n: Node): string => (isScalar(n) ? (n.source ?? String(n.value)) : '');
  const str = (n: Node | null | undefined, into: string): string => {
    if (n === null || n === undefined) return '';
    if (isScalar(n)) return n.value === null ? '' : (typeof n.value === 'string' ? n.value : scalarText(n));
    unmarshal.push(`  line ${posOf(n).line}: cannot unmarshal ${typeName(n)} into ${into}`);
    return '';
  };
  const duration = (n: Node | null | undefined): number | undefined => {
    if (n === null || n === undefined) return undefined;
    const s = str(n, 'model.Duration');
    if (isScalar(n) && n.value === null) return undefined;
    const d = parseModelDuration(s);
    if (d === undefined) throw new FatalYamlError(`not a valid duration string: "${s}"`);
    return d;
  };
  const strMap = (n: Node | null | undefined, what: string): Record<string, string> => {
    const out: Record<string, string> = {};
    if (n === null || n === undefined || (isScalar(n) && n.value === null)) return out;
    if (!isMap(n)) {
      unmarshal.push(`  line ${posOf(n).line}: cannot unmarshal ${typeName(n)} \`${scalarText(n)}\` into ${what}`);
      return out;
    }
    for (const p of n.items as Pair<Node, Node>[]) out[str(p.key, 'string')] = str(p.value, 'string');
    return out;
  };
  const fields = (n: Node, type: string, known: readonly string[]): Map<string, Node | null> => {
    const out = new Map<string, Node | null>();
    if (!isMap(n)) {
      if (!(isScalar(n) && n.value === null)) unmarshal.push(`  line ${posOf(n).line}: cannot unmarshal ${typeName(n)} \`${scalarText(n)}\` into ${type}`);
      return out;
    }
    for (const p of n.items as Pair<Node, Node | null>[]) {
      const k = isScalar(p.key) ? String(p.key.value) : '';
      if (!known.includes(k)) unmarshal.push(`  line ${posOf(p.key).line}: field ${k} not found in type ${type}`);
      else out.set(k, p.value);
    }
    return out;
  };

  const groups: RuleGroupDef[] = [];
  try {
    const root = doc.contents as Node | null;
    if (root !== null && !(isScalar(root) && root.value === null)) {
      const top = fields(root, 'rulefmt.RuleGroups', ['groups']);
      const gs = top.get('groups');
      if (gs !== undefined && gs !== null && !(isScalar(gs) && gs.value === null)) {
        if (!isSeq(gs)) unmarshal.push(`  line ${posOf(gs).line}: cannot unmarshal ${typeName(gs)} into []rulefmt.RuleGroup`);
        else {
          const groupKeys = ['name', 'interval', 'query_offset', 'limit', 'labels', 'rules', ...(options.thanos === true ? ['partial_response_strategy'] : [])];
          for (const gn of gs.items as Node[]) {
            const g = fields(gn, 'rulefmt.RuleGroup', groupKeys);
            const rules: RuleDef[] = [];
            const rn = g.get('rules');
            if (rn !== undefined && rn !== null && !(isScalar(rn) && rn.value === null)) {
              if (!isSeq(rn)) unmarshal.push(`  line ${posOf(rn).line}: cannot unmarshal ${typeName(rn)} into []rulefmt.RuleNode`);
              else {
                for (const r of rn.items as Node[]) {
                  const f = fields(r, 'rulefmt.RuleNode', ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
                  const recordN = f.get('record');
                  const alertN = f.get('alert');
                  const exprN = f.get('expr');
                  rules.push({
                    record: recordN === undefined ? undefined : str(recordN, 'string'),
                    alert: alertN === undefined ? undefined : str(alertN, 'string'),
                    expr: str(exprN, 'string'),
                    for: duration(f.get('for')) ?? 0,
                    keepFiringFor: duration(f.get('keep_firing_for')) ?? 0,
                    labels: strMap(f.get('labels'), 'map[string]string'),
                    annotations: strMap(f.get('annotations'), 'map[string]string'),
                    pos: posOf(r),
                    ...{ _nodes: { record: recordN, alert: alertN, expr: exprN, labels: f.get('labels'), annotations: f.get('annotations') } },
                  });
                }
              }
            }
            const limitN = g.get('limit');
            let limit = 0;
            if (limitN !== undefined && limitN !== null) {
              if (isScalar(limitN) && typeof limitN.value === 'number' && Number.isInteger(limitN.value)) limit = limitN.value;
              else if (!(isScalar(limitN) && limitN.value === null)) unmarshal.push(`  line ${posOf(limitN).line}: cannot unmarshal ${typeName(limitN)} \`${scalarText(limitN)}\` into int`);
            }
            const prs = g.get('partial_response_strategy');
            groups.push({
              name: str(g.get('name'), 'string'),
              interval: duration(g.get('interval')),
              queryOffset: duration(g.get('query_offset')),
              limit,
              labels: strMap(g.get('labels'), 'map[string]string'),
              partialResponseStrategy: prs === undefined ? undefined : str(prs, 'string').toLowerCase(),
              rules,
              pos: posOf(gn),
            });
          }
        }
      }
    }
  } catch (err) {
    if (err instanceof FatalYamlError) return { groups: [], errors: [`${file}: ${err.message}`] };
    throw err;
  }
  if (unmarshal.length > 0) return { groups: [], errors: [`${file}: yaml: unmarshal errors:\n${unmarshal.join('\n')}`] };

  const errors: string[] = [];
  const at = (p: Position): string => `${p.line}:${p.col}`;
  const seen = new Set<string>();
  for (const g of groups) {
    if (g.name === '') errors.push(`${file}: ${at(g.pos)}: Groupname must not be empty`);
    else if (seen.has(g.name)) errors.push(`${file}: ${at(g.pos)}: groupname: "${g.name}" is repeated in the same file`);
    seen.add(g.name);
    if (g.partialResponseStrategy !== undefined && g.partialResponseStrategy !== '' && g.partialResponseStrategy !== 'warn' && g.partialResponseStrategy !== 'abort') {
      errors.push(`${file}: ${at(g.pos)}: group "${g.name}": partial_response_strategy must be warn or abort, got "${g.partialResponseStrategy}"`);
    }
    for (const [k, v] of Object.entries(g.labels)) {
      if (!LABEL_NAME.test(k) || k === '__name__') errors.push(`${file}: group "${g.name}": invalid label name: ${k}`);
      void v;
    }
    g.rules.forEach((r, idx) => {
      type N = Node | null | undefined;
      const nodes = (r as unknown as { _nodes: { record: N; alert: N; expr: N; labels: N; annotations: N } })._nodes;
      // the value node of key k in a labels/annotations map, when positions are asked for
      const valueNode = (m: N, k: string): N[] => {
        if (options.positions !== true || !isMap(m)) return [];
        const p = m.items.find((it) => isScalar(it.key) && String(it.key.value) === k);
        return p === undefined ? [] : [(p.value ?? p.key) as Node];
      };
      const name = r.alert !== undefined && r.alert !== '' ? r.alert : (r.record ?? '');
      const prefix = `group "${g.name}", rule ${idx + 1}, "${name}"`;
      const push = (msg: string, ...ns: (Node | null | undefined)[]): void => {
        const pos = ns.map((n) => `${at(posOf(n))}: `).join('');
        errors.push(`${file}: ${pos}${prefix}: ${msg}`);
      };
      const hasRecord = r.record !== undefined && r.record !== '';
      const hasAlert = r.alert !== undefined && r.alert !== '';
      if (hasRecord && hasAlert) push(`only one of 'record' and 'alert' must be set`, nodes.record, nodes.alert);
      if (!hasRecord && !hasAlert) push(`one of 'record' or 'alert' must be set`, nodes.record);
      if (r.expr === '') push(`field 'expr' must be set in rule`, nodes.expr);
      else {
        try {
          parseExpr(r.expr);
        } catch (err) {
          push(`could not parse expression: ${(err as Error).message}`, nodes.expr);
        }
      }
      if (hasRecord) {
        if (Object.keys(r.annotations).length > 0) push(`invalid field 'annotations' in recording rule`, nodes.record);
        if (r.for !== 0) push(`invalid field 'for' in recording rule`, nodes.record);
        if (r.keepFiringFor !== 0) push(`invalid field 'keep_firing_for' in recording rule`, nodes.record);
        if (!METRIC_NAME.test(r.record!)) push(`invalid recording rule name: ${r.record!}`, nodes.record);
      }
      for (const k of Object.keys(r.labels).sort()) {
        if (!LABEL_NAME.test(k) || k === '__name__') push(`invalid label name: ${k}`, ...valueNode(nodes.labels, k));
      }
      for (const k of Object.keys(r.annotations).sort()) {
        if (!LABEL_NAME.test(k)) push(`invalid annotation name: ${k}`, ...valueNode(nodes.annotations, k));
      }
      if (hasAlert) {
        const check = (kind: string, k: string, v: string): void => {
          try {
            parseTemplate(`__alert_${r.alert!}`, ALERT_TEMPLATE_DEFS + v, ALERT_TEMPLATE_FUNCS);
          } catch (err) {
            push(`${kind} "${k}": ${(err as Error).message}`, ...valueNode(kind === 'label' ? nodes.labels : nodes.annotations, k));
          }
        };
        for (const k of Object.keys(r.labels).sort()) check('label', k, r.labels[k]!);
        for (const k of Object.keys(r.annotations).sort()) check('annotation', k, r.annotations[k]!);
      }
    });
  }
  return { groups: groups.map((g) => ({ ...g, rules: g.rules.map(stripNodes) })), errors };
}

function stripNodes(r: RuleDef): RuleDef {
  const { _nodes, ...rest } = r as RuleDef & { _nodes?: unknown };
  void _nodes;
  return rest;
}
