import { RE2JS } from 're2js';
import { TesseraError } from '../errors/index.js';
import { GoInt, goFormatFloat, goQuoteString, goSprintf, goTypeName } from './go-format.js';
import { goDurationString, goTimeString, humanize, humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp, unixSecondsToMs } from './humanize.js';
import { parseModelDuration } from './model-duration.js';
import type { Command, Operand, ParsedTemplate, Pipe, TemplateNode } from './template-parse.js';
import { goQueryEscape } from './go-query-escape.js';

/** TemplateSample is one element of a `query` result: `.Labels` (with `__name__`) and `.Value`. */
export class TemplateSample {
  constructor(
    readonly Labels: Map<string, string>,
    readonly Value: number,
  ) {}
}

/** SafeHTML is the result of `safeHtml`: printed as is. */
export class SafeHTML {
  constructor(readonly html: string) {}
}

/** TemplateQueryFunc runs an instant PromQL query for the `query` template function. */
export type TemplateQueryFunc = (query: string) => Promise<TemplateSample[]>;

/** TemplateEnv is what functions of a template see besides their arguments. */
export interface TemplateEnv {
  readonly externalURL: string;
  readonly query?: TemplateQueryFunc;
  /** clock for `now`, in milliseconds. */
  readonly now?: () => number;
}

/** TemplateExecError is a template that failed while executing; message as Go's text/template. */
export class TemplateExecError extends TesseraError {
  constructor(message: string) {
    super('TESSERA_TEMPLATE_EXEC', message);
  }
}

class FuncError extends Error {}

type Fn = (env: TemplateEnv, args: unknown[]) => unknown;

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof GoInt) return v.value;
  if (typeof v === 'string') {
    if (/^[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)$/i.test(v)) {
      const t = v.replace(/^\+/, '').toLowerCase();
      if (/^-?inf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
      if (/^-?nan$/.test(t)) return NaN;
      return Number(v);
    }
    throw new FuncError(`strconv.ParseFloat: parsing ${goQuoteString(v)}: invalid syntax`);
  }
  throw new FuncError(`can't convert ${goTypeName(v)} to float`);
}

function str(v: unknown, _fn: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof SafeHTML) return v.html;
  throw new FuncError(`wrong type for value; expected string; got ${goTypeName(v)}`);
}

function sample(v: unknown): TemplateSample | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof TemplateSample) return v;
  throw new FuncError(`wrong type for value; expected *template.sample; got ${goTypeName(v)}`);
}

function samples(v: unknown): TemplateSample[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v as TemplateSample[];
  throw new FuncError(`wrong type for value; expected template.queryResult; got ${goTypeName(v)}`);
}

/** truth is Go's template truthiness. */
function truth(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (v instanceof GoInt) return v.value !== 0;
  if (typeof v === 'string') return v !== '';
  if (v instanceof Map) return v.size > 0;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** goSprint prints a value as Go's fmt %v. */
export function goSprint(v: unknown, top = true): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'number') return goFormatFloat(v, 'g', -1);
  if (v instanceof GoInt) return String(v.value);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (v instanceof SafeHTML) return v.html;
  if (v instanceof Map) return 'map[' + [...v.keys()].sort().map((k) => `${k}:${goSprint(v.get(k), false)}`).join(' ') + ']';
  if (Array.isArray(v)) return '[' + v.map((e) => goSprint(e, false)).join(' ') + ']';
  if (v instanceof TemplateSample) return `${top ? '&' : ''}{${goSprint(v.Labels, false)} ${goSprint(v.Value, false)}}`;
  if (v instanceof GoTime) return goTimeString(v.ms);
  if (v instanceof GoDuration) return goDurationString(v.ns);
  if (typeof v === 'object') return '{' + Object.values(v as Record<string, unknown>).map((e) => goSprint(e, false)).join(' ') + '}';
  return String(v);
}

class GoTime {
  constructor(readonly ms: number) {}
}
class GoDuration {
  constructor(readonly ns: number) {}
}

function kind(v: unknown): string {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'float';
  if (v instanceof GoInt) return 'int';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function basic(v: unknown): number | string | boolean {
  return v instanceof GoInt ? v.value : (v as number | string | boolean);
}

function eq(a: unknown, ...bs: unknown[]): boolean {
  if (bs.length === 0) throw new FuncError('missing argument for comparison');
  for (const b of bs) {
    const ka = kind(a);
    const kb = kind(b);
    if (ka === 'other' || kb === 'other') {
      if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
      throw new FuncError('non-comparable types');
    }
    if (ka !== kb) throw new FuncError('incompatible types for comparison');
    if (basic(a) === basic(b)) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const ka = kind(a);
  const kb = kind(b);
  if (ka === 'bool' || ka === 'other' || kb === 'bool' || kb === 'other') throw new FuncError('invalid type for comparison');
  if (ka !== kb) throw new FuncError('incompatible types for comparison');
  return (basic(a) as number | string) < (basic(b) as number | string);
}

function htmlEscape(s: string): string {
  return s.replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' })[c]!);
}

function splitHostPort(hp: string): [string, string] | undefined {
  if (hp.startsWith('[')) {
    const m = /^\[([^\]]*)\]:([^:]*)$/.exec(hp);
    return m === null ? undefined : [m[1]!, m[2]!];
  }
  const i = hp.lastIndexOf(':');
  if (i < 0 || hp.indexOf(':') !== i) return undefined;
  return [hp.slice(0, i), hp.slice(i + 1)];
}

function isIP(h: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || (h.includes(':') && /^[0-9a-fA-F:.]+$/.test(h));
}

function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = /[A-Za-z0-9_]/.test(prev) ? false : /[\p{L}\p{N}]/u.test(prev) ? false : /[\s]/u.test(prev) ? true : prev.codePointAt(0)! < 0x80;
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function compileRe(pattern: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    throw new FuncError(`error parsing regexp: ${(err as Error).message}`);
  }
}

/** goExpand applies Go's regexp.Expand template ($1, ${1}, $name, $$) for one match. */
function goExpand(repl: string, groups: (string | null)[], names: Map<string, number>): string {
  return repl.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_m, all: string, braced?: string, bare?: string) => {
    if (all === '$') return '$';
    const name = braced ?? bare ?? '';
    const idx = /^\d+$/.test(name) ? Number(name) : names.get(name);
    if (idx === undefined) return '';
    return groups[idx] ?? '';
  });
}

function reReplaceAll(pattern: string, repl: string, text: string): string {
  const re = compileRe(pattern);
  const m = re.matcher(text);
  const names = new Map<string, number>(Object.entries(re.namedGroups() as Record<string, number>));
  let out = '';
  let last = 0;
  let searchFrom = 0;
  while (searchFrom <= text.length && m.find(searchFrom)) {
    const s = m.start();
    const e = m.end();
    const groups: (string | null)[] = [];
    for (let g = 0; g <= re.groupCount(); g++) groups.push(m.group(g));
    out += text.slice(last, s) + goExpand(repl, groups, names);
    last = e;
    searchFrom = e === s ? e + 1 : e;
  }
  return out + text.slice(last);
}

const FUNCS: Record<string, Fn> = {
  // Go built-ins
  and: (_e, a) => {
    for (const x of a.slice(0, -1)) if (!truth(x)) return x;
    return a[a.length - 1];
  },
  or: (_e, a) => {
    for (const x of a.slice(0, -1)) if (truth(x)) return x;
    return a[a.length - 1];
  },
  not: (_e, a) => !truth(a[0]),
  len: (_e, [v]) => {
    if (typeof v === 'string') return new GoInt(Buffer.byteLength(v));
    if (v instanceof Map) return new GoInt(v.size);
    if (Array.isArray(v)) return new GoInt(v.length);
    throw new FuncError(`len of type ${goTypeName(v)}`);
  },
  index: (_e, [item, ...keys]) => {
    let v: unknown = item;
    for (const k of keys) {
      if (v instanceof Map) {
        if (typeof k !== 'string') throw new FuncError(`value has type ${goTypeName(k)}; should be string`);
        v = v.get(k) ?? '';
      } else if (Array.isArray(v)) {
        if (!(k instanceof GoInt)) throw new FuncError(`cannot index slice/array with type ${goTypeName(k)}`);
        if (k.value < 0 || k.value >= v.length) throw new FuncError(`index out of range: ${k.value}`);
        v = v[k.value];
      } else throw new FuncError(`can't index item of type ${goTypeName(v)}`);
    }
    return v;
  },
  print: (_e, a) => {
    let out = '';
    a.forEach((x, i) => {
      if (i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string') out += ' ';
      out += goSprint(x);
    });
    return out;
  },
  println: (_e, a) => a.map((x) => goSprint(x)).join(' ') + '\n',
  printf: (_e, [f, ...a]) => goSprintf(str(f, 'printf'), a, (v) => goSprint(v)),
  html: (_e, a) => htmlEscape(a.map((x) => goSprint(x)).join('')),
  urlquery: (_e, a) => goQueryEscape(a.map((x) => goSprint(x)).join('')),
  js: (_e, a) =>
    a
      .map((x) => goSprint(x))
      .join('')
      .replace(/[\\'"<>&=\n\r\t]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!),
  eq: (_e, [a, ...b]) => eq(a, ...b),
  ne: (_e, [a, b]) => !eq(a, b),
  lt: (_e, [a, b]) => lt(a, b),
  le: (_e, [a, b]) => lt(a, b) || eq(a, b),
  gt: (_e, [a, b]) => !lt(a, b) && !eq(a, b),
  ge: (_e, [a, b]) => !lt(a, b),
  slice: () => {
    throw new FuncError('slice is not supported by Tessera');
  },
  call: () => {
    throw new FuncError('call is not supported by Tessera');
  },
  // Prometheus
  first: (_e, [v]) => {
    const s = samples(v);
    if (s.length === 0) throw new FuncError('first() called on vector with no elements');
    return s[0];
  },
  label: (_e, [l, s]) => sample(s)?.Labels.get(str(l, 'label')) ?? '',
  value: (_e, [s]) => sample(s)?.Value ?? 0,
  strvalue: (_e, [s]) => sample(s)?.Labels.get('__value__') ?? '',
  args: (_e, a) => new Map(a.map((x, i) => [`arg${i}`, x])),
  reReplaceAll: (_e, [p, r, t]) => reReplaceAll(str(p, 'reReplaceAll'), str(r, 'reReplaceAll'), str(t, 'reReplaceAll')),
  safeHtml: (_e, [t]) => new SafeHTML(str(t, 'safeHtml')),
  match: (_e, [p, t]) => compileRe(str(p, 'match')).matcher(str(t, 'match')).find(),
  title: (_e, [s]) => title(str(s, 'title')),
  toUpper: (_e, [s]) => str(s, 'toUpper').toUpperCase(),
  toLower: (_e, [s]) => str(s, 'toLower').toLowerCase(),
  graphLink: (_e, [x]) => `/graph?g0.expr=${goQueryEscape(str(x, 'graphLink'))}&g0.tab=0`,
  tableLink: (_e, [x]) => `/graph?g0.expr=${goQueryEscape(str(x, 'tableLink'))}&g0.tab=1`,
  sortByLabel: (_e, [l, v]) => {
    const name = str(l, 'sortByLabel');
    return [...samples(v)].sort((a, b) => {
      const x = a.Labels.get(name) ?? '';
      const y = b.Labels.get(name) ?? '';
      return x < y ? -1 : x > y ? 1 : 0;
    });
  },
  humanize: (_e, [v]) => humanize(toFloat(v)),
  humanize1024: (_e, [v]) => humanize1024(toFloat(v)),
  humanizeDuration: (_e, [v]) => humanizeDuration(toFloat(v)),
  humanizePercentage: (_e, [v]) => humanizePercentage(toFloat(v)),
  humanizeTimestamp: (_e, [v]) => humanizeTimestamp(toFloat(v)),
  toTime: (_e, [v]) => new GoTime(unixSecondsToMs(toFloat(v))),
  toDuration: (_e, [v]) => new GoDuration(Math.trunc(toFloat(v) * 1e9)),
  now: (e) => (e.now?.() ?? Date.now()) / 1000,
  pathPrefix: (e) => {
    try {
      return new URL(e.externalURL).pathname.replace(/^\/$/, '');
    } catch {
      return '';
    }
  },
  externalURL: (e) => e.externalURL,
  parseDuration: (_e, [d]) => {
    const s = str(d, 'parseDuration');
    const ms = parseModelDuration(s);
    if (ms === undefined) throw new FuncError(`not a valid duration string: ${goQuoteString(s)}`);
    return ms / 1000;
  },
  stripPort: (_e, [hp]) => {
    const s = str(hp, 'stripPort');
    return splitHostPort(s)?.[0] ?? s;
  },
  stripDomain: (_e, [hp]) => {
    const s = str(hp, 'stripDomain');
    const split = splitHostPort(s);
    let host = split?.[0] ?? s;
    const port = split?.[1] ?? '';
    if (isIP(host)) return s;
    host = host.split('.')[0]!;
    return port !== '' ? (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`) : host;
  },
  urlQueryEscape: (_e, [s]) => goQueryEscape(str(s, 'urlQueryEscape')),
};

const ASYNC_QUERY = 'query';

interface State {
  readonly tmpl: ParsedTemplate;
  readonly env: TemplateEnv;
  vars: [string, unknown][];
  out: string;
  depth: number;
}

function execError(st: State, cmd: Command, msg: string): TemplateExecError {
  const text = st.tmpl.text;
  const before = text.slice(0, cmd.pos);
  const line = before.split('\n').length;
  const nl = before.lastIndexOf('\n');
  const col = Buffer.byteLength(nl < 0 ? before : before.slice(nl + 1));
  const n = st.tmpl.name;
  return new TemplateExecError(`template: ${n}:${line}:${col}: executing "${n}" at <${cmd.text}>: ${msg}`);
}

function field(st: State, cmd: Command, recv: unknown, name: string): unknown {
  if (recv instanceof Map) return recv.get(name) ?? '';
  if (recv !== null && typeof recv === 'object' && !Array.isArray(recv) && Object.prototype.hasOwnProperty.call(recv, name)) return (recv as Record<string, unknown>)[name];
  if (recv === null || recv === undefined) throw execError(st, cmd, `nil pointer evaluating interface {}.${name}`);
  throw execError(st, cmd, `can't evaluate field ${name} in type ${goTypeName(recv)}`);
}

function lookupVar(st: State, name: string): unknown {
  for (let i = st.vars.length - 1; i >= 0; i--) if (st.vars[i]![0] === name) return st.vars[i]![1];
  return undefined;
}

async function callFunc(st: State, cmd: Command, name: string, args: unknown[]): Promise<unknown> {
  try {
    if (name === ASYNC_QUERY) {
      if (st.env.query === undefined) throw new FuncError('no query function configured');
      return await st.env.query(str(args[0], 'query'));
    }
    const f = FUNCS[name];
    if (f === undefined) throw new FuncError(`function "${name}" not defined`);
    return f(st.env, args);
  } catch (err) {
    if (err instanceof TemplateExecError) throw err;
    throw execError(st, cmd, `error calling ${name}: ${(err as Error).message}`);
  }
}

async function evalOperand(st: State, cmd: Command, dot: unknown, op: Operand): Promise<unknown> {
  switch (op.kind) {
    case 'dot':
      return dot;
    case 'field': {
      let v = dot;
      for (const id of op.idents) v = field(st, cmd, v, id);
      return v;
    }
    case 'variable': {
      let v = lookupVar(st, op.name);
      for (const id of op.idents) v = field(st, cmd, v, id);
      return v;
    }
    case 'pipe': {
      let v = await evalPipe(st, dot, op.pipe);
      for (const id of op.idents) v = field(st, cmd, v, id);
      return v;
    }
    case 'identifier':
      return callFunc(st, cmd, op.name, []);
    case 'string':
      return op.value;
    case 'number':
      return op.isInt ? new GoInt(op.value) : op.value;
    case 'bool':
      return op.value;
    case 'nil':
      return null;
  }
}

async function evalCommand(st: State, dot: unknown, cmd: Command, final: unknown, hasFinal: boolean): Promise<unknown> {
  const [first, ...rest] = cmd.args;
  if (first === undefined) throw execError(st, cmd, 'empty command');
  if (first.kind === 'identifier') {
    const args: unknown[] = [];
    for (const a of rest) args.push(await evalOperand(st, cmd, dot, a));
    if (hasFinal) args.push(final);
    return callFunc(st, cmd, first.name, args);
  }
  if (rest.length > 0 || hasFinal) throw execError(st, cmd, `can't give argument to non-function ${cmd.args[0]!.kind === 'field' ? '.' + (first as { idents: string[] }).idents.join('.') : cmd.text}`);
  return evalOperand(st, cmd, dot, first);
}

async function evalPipe(st: State, dot: unknown, pipe: Pipe): Promise<unknown> {
  let v: unknown;
  let has = false;
  for (const c of pipe.cmds) {
    v = await evalCommand(st, dot, c, v, has);
    has = true;
  }
  for (const name of pipe.decl) {
    if (pipe.isAssign) {
      for (let i = st.vars.length - 1; i >= 0; i--) {
        if (st.vars[i]![0] === name) {
          st.vars[i]![1] = v;
          break;
        }
      }
    } else st.vars.push([name, v]);
  }
  return v;
}

class LoopControl {
  constructor(readonly kind: 'break' | 'continue') {}
}

async function walk(st: State, dot: unknown, list: readonly TemplateNode[]): Promise<void> {
  for (const n of list) {
    switch (n.kind) {
      case 'break':
      case 'continue':
        throw new LoopControl(n.kind);
      case 'template': {
        const body = st.tmpl.defines.get(n.name);
        const cmd = { args: [], pos: n.pos, text: n.text };
        if (body === undefined) throw execError(st, cmd, `template ${goQuoteString(n.name)} not defined`);
        if (st.depth >= 1000) throw execError(st, cmd, 'exceeded maximum template depth (1000)');
        const v = n.pipe === undefined ? null : await evalPipe(st, dot, n.pipe);
        const saved = st.vars;
        st.vars = [['$', v]];
        st.depth++;
        try {
          await walk(st, v, body);
        } finally {
          st.depth--;
          st.vars = saved;
        }
        break;
      }
      case 'text':
        st.out += n.text;
        break;
      case 'action': {
        const v = await evalPipe(st, dot, n.pipe);
        if (n.pipe.decl.length === 0) st.out += v === undefined ? '<no value>' : goSprint(v);
        break;
      }
      case 'if':
      case 'with': {
        const mark = st.vars.length;
        const v = await evalPipe(st, dot, n.pipe);
        if (truth(v)) await walk(st, n.kind === 'with' ? v : dot, n.list);
        else if (n.elseList !== undefined) await walk(st, dot, n.elseList);
        st.vars.length = mark;
        break;
      }
      case 'range': {
        const mark = st.vars.length;
        const decl = n.pipe.decl;
        const v = await evalPipe(st, dot, { ...n.pipe, decl: [] });
        let items: [unknown, unknown][] = [];
        if (Array.isArray(v)) items = v.map((e, i) => [new GoInt(i), e]);
        else if (v instanceof Map) items = [...v.keys()].sort().map((k) => [k, v.get(k)]);
        else if (v instanceof GoInt) items = Array.from({ length: Math.max(v.value, 0) }, (_x, i) => [new GoInt(i), new GoInt(i)]);
        else if (v !== null && v !== undefined) throw new TemplateExecError(`template: ${st.tmpl.name}: range can't iterate over ${goSprint(v)}`);
        if (items.length === 0) {
          if (n.elseList !== undefined) await walk(st, dot, n.elseList);
        } else {
          for (const [k, e] of items) {
            const inner = st.vars.length;
            if (decl.length === 1) st.vars.push([decl[0]!, e]);
            else if (decl.length === 2) st.vars.push([decl[0]!, k], [decl[1]!, e]);
            try {
              await walk(st, e, n.list);
            } catch (err) {
              if (!(err instanceof LoopControl)) throw err;
              st.vars.length = inner;
              if (err.kind === 'break') break;
              continue;
            }
            st.vars.length = inner;
          }
        }
        st.vars.length = mark;
        break;
      }
    }
  }
}

/** executeTemplate runs a parsed template against data (`.`, also `$`). */
export async function executeTemplate(tmpl: ParsedTemplate, data: unknown, env: TemplateEnv): Promise<string> {
  const st: State = { tmpl, env, vars: [['$', data]], out: '', depth: 0 };
  await walk(st, data, tmpl.root);
  return st.out;
}
