import { TesseraError } from '../errors/index.js';

/**
 * A subset of Go's text/template syntax, as Prometheus alert templates use it: text, actions with
 * pipelines, variables, fields, `if`/`else if`/`else`/`end`, `range`, `with`, comments and trim
 * markers. Parse errors carry Go's message shape: `template: <name>:<line>: <problem>`.
 */
export type TemplateNode =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'action'; readonly pipe: Pipe; readonly line: number; readonly col: number }
  | { readonly kind: 'if' | 'with' | 'range'; readonly pipe: Pipe; readonly list: TemplateNode[]; readonly elseList: TemplateNode[] | undefined; readonly line: number; readonly col: number }
  | { readonly kind: 'template'; readonly name: string; readonly pipe: Pipe | undefined; readonly pos: number; readonly text: string }
  | { readonly kind: 'break' | 'continue' };

export interface Pipe {
  /** variables declared (`$x :=`) or assigned (`$x =`). */
  readonly decl: string[];
  readonly isAssign: boolean;
  readonly cmds: Command[];
  readonly line: number;
  readonly col: number;
  readonly text: string;
}

export interface Command {
  readonly args: Operand[];
  /** byte offset of the command in the template text, and its source text (for error messages). */
  readonly pos: number;
  readonly text: string;
}

export type Operand =
  | { readonly kind: 'field'; readonly idents: string[] }
  | { readonly kind: 'variable'; readonly name: string; readonly idents: string[] }
  | { readonly kind: 'dot' }
  | { readonly kind: 'identifier'; readonly name: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number; readonly isInt: boolean; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'nil' }
  | { readonly kind: 'pipe'; readonly pipe: Pipe; readonly idents: string[] };

/** TemplateParseError is a template that does not parse; message as Go's text/template. */
export class TemplateParseError extends TesseraError {
  constructor(message: string) {
    super('TESSERA_TEMPLATE_PARSE', message);
  }
}

type TokKind =
  | 'text' | 'left' | 'right' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma'
  | 'string' | 'rawstring' | 'char' | 'number' | 'bool' | 'nil' | 'dot' | 'field' | 'variable'
  | 'identifier' | 'keyword' | 'eof' | 'error' | 'space';

interface Tok {
  kind: TokKind;
  val: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlnum(c: string): boolean {
  return /[\p{L}\p{Nd}_]/u.test(c);
}

/** lex splits template text into tokens like Go's text/template lexer. */
function lex(input: string): Tok[] {
  const toks: Tok[] = [];
  let pos = 0;
  let line = 1;
  const lineAt = (p: number): number => {
    let l = 1;
    for (let i = 0; i < p && i < input.length; i++) if (input[i] === '\n') l++;
    return l;
  };
  const emit = (kind: TokKind, start: number, end: number): void => {
    toks.push({ kind, val: input.slice(start, end), pos: start, line: lineAt(start) });
  };
  const err = (msg: string, at: number): Tok[] => {
    toks.push({ kind: 'error', val: msg, pos: at, line: lineAt(at) });
    return toks;
  };
  while (pos <= input.length) {
    const open = input.indexOf('{{', pos);
    if (open < 0) {
      if (pos < input.length) emit('text', pos, input.length);
      break;
    }
    let textEnd = open;
    let afterLeft = open + 2;
    const trimLeft = input.startsWith('- ', afterLeft) || input.startsWith('-\t', afterLeft) || input.startsWith('-\n', afterLeft) || input.startsWith('-\r', afterLeft);
    if (trimLeft) {
      while (textEnd > pos && isSpace(input[textEnd - 1]!)) textEnd--;
      afterLeft += 2;
    }
    if (textEnd > pos) emit('text', pos, textEnd);
    // comment
    let p = afterLeft;
    if (input.startsWith('/*', p)) {
      const close = input.indexOf('*/', p + 2);
      if (close < 0) return err('unclosed comment', open);
      p = close + 2;
      let trimR = false;
      if (input.startsWith(' -}}', p) || input.startsWith('\t-}}', p) || input.startsWith('\n-}}', p)) {
        trimR = true;
        p += 4;
      } else if (input.startsWith('}}', p)) p += 2;
      else return err('comment ends before closing delimiter', open);
      if (trimR) while (p < input.length && isSpace(input[p]!)) p++;
      pos = p;
      continue;
    }
    toks.push({ kind: 'left', val: '{{', pos: open, line: lineAt(open) });
    let parenDepth = 0;
    // inside action
    for (;;) {
      const rightTrim = /^[ \t\r\n]-\}\}/.test(input.slice(p, p + 4));
      if (rightTrim || input.startsWith('}}', p)) {
        if (parenDepth > 0) return err('unclosed left paren', p);
        const end = rightTrim ? p + 4 : p + 2;
        toks.push({ kind: 'right', val: '}}', pos: p, line: lineAt(p) });
        p = end;
        if (rightTrim) while (p < input.length && isSpace(input[p]!)) p++;
        break;
      }
      if (p >= input.length) return err('unclosed action', open);
      const c = input[p]!;
      if (isSpace(c)) {
        let q = p;
        while (q < input.length && isSpace(input[q]!) && !/^[ \t\r\n]-\}\}/.test(input.slice(q, q + 4))) q++;
        if (q === p) q++;
        emit('space', p, q);
        p = q;
        continue;
      }
      if (c === '=') {
        emit('assign', p, p + 1);
        p++;
        continue;
      }
      if (c === ':') {
        if (input[p + 1] !== '=') return err('expected :=', p);
        emit('declare', p, p + 2);
        p += 2;
        continue;
      }
      if (c === '|') {
        emit('pipe', p, p + 1);
        p++;
        continue;
      }
      if (c === ',') {
        emit('comma', p, p + 1);
        p++;
        continue;
      }
      if (c === '(') {
        parenDepth++;
        emit('lparen', p, p + 1);
        p++;
        continue;
      }
      if (c === ')') {
        parenDepth--;
        if (parenDepth < 0) return err(`unexpected right paren`, p);
        emit('rparen', p, p + 1);
        p++;
        continue;
      }
      if (c === '"') {
        let q = p + 1;
        for (;;) {
          if (q >= input.length || input[q] === '\n') return err('unterminated quoted string', p);
          if (input[q] === '\\') q += 2;
          else if (input[q] === '"') break;
          else q++;
        }
        emit('string', p, q + 1);
        p = q + 1;
        continue;
      }
      if (c === '`') {
        const q = input.indexOf('`', p + 1);
        if (q < 0) return err('unterminated raw quoted string', p);
        emit('rawstring', p, q + 1);
        p = q + 1;
        continue;
      }
      if (c === "'") {
        let q = p + 1;
        for (;;) {
          if (q >= input.length || input[q] === '\n') return err('unterminated character constant', p);
          if (input[q] === '\\') q += 2;
          else if (input[q] === "'") break;
          else q++;
        }
        emit('char', p, q + 1);
        p = q + 1;
        continue;
      }
      if (c === '$') {
        let q = p + 1;
        while (q < input.length && isAlnum(input[q]!)) q++;
        emit('variable', p, q);
        p = q;
        continue;
      }
      if (c === '.') {
        const n = input[p + 1];
        if (n !== undefined && /[0-9]/.test(n)) {
          // number like .5
        } else {
          let q = p + 1;
          while (q < input.length && isAlnum(input[q]!)) q++;
          emit(q === p + 1 ? 'dot' : 'field', p, q);
          p = q;
          continue;
        }
      }
      if (c === '+' || c === '-' || c === '.' || /[0-9]/.test(c)) {
        const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(input.slice(p));
        const t = m?.[0] ?? '';
        if (t === '' || t === '+' || t === '-' || t === '.') return err(`bad number syntax: "${input.slice(p, p + 1)}"`, p);
        const next = input[p + t.length];
        if (next !== undefined && isAlnum(next)) return err(`bad number syntax: "${input.slice(p, p + t.length + 1)}"`, p);
        emit('number', p, p + t.length);
        p += t.length;
        continue;
      }
      if (isAlnum(c)) {
        let q = p;
        while (q < input.length && isAlnum(input[q]!)) q++;
        const w = input.slice(p, q);
        emit(KEYWORDS.has(w) ? 'keyword' : w === 'true' || w === 'false' ? 'bool' : w === 'nil' ? 'nil' : 'identifier', p, q);
        p = q;
        continue;
      }
      return err(`unrecognized character in action: ${JSON.stringify(c)}`, p);
    }
    pos = p;
  }
  toks.push({ kind: 'eof', val: '', pos: input.length, line: lineAt(input.length) });
  void line;
  return toks;
}

/** goQuoteName quotes a template name as Go's strconv.Quote does for printable text. */
function goQuoteName(n: string): string {
  return JSON.stringify(n);
}

/** unquoteGo decodes a Go interpreted string literal (with the quotes). */
export function unquoteGo(lit: string): string {
  const body = lit.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case "'": out += "'"; break;
      case 'x': out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; break;
      case 'u': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16)); i += 4; break;
      case 'U': out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16)); i += 8; break;
      default:
        if (n !== undefined && /[0-7]/.test(n)) {
          out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else throw new Error(`invalid syntax`);
    }
  }
  return out;
}

/** ParsedTemplate is a parsed template: its name, source and node tree. */
export interface ParsedTemplate {
  readonly name: string;
  readonly text: string;
  readonly root: TemplateNode[];
  /** templates defined with {{define}} or {{block}}. */
  readonly defines: ReadonlyMap<string, TemplateNode[]>;
}

/**
 * parseTemplate parses text as a Go text/template called name. funcs lists the functions that
 * exist (an unknown one is a parse error, as in Go); vars the variables defined before the text
 * (`$` always is).
 */
export function parseTemplate(name: string, text: string, funcs: ReadonlySet<string>, vars: readonly string[] = []): ParsedTemplate {
  const toks = lex(text).filter((t) => t.kind !== 'space' || true);
  let i = 0;
  let scopes: string[][] = [['$', ...vars]];
  const defines = new Map<string, TemplateNode[]>();
  let rangeDepth = 0;
  const fail = (line: number, msg: string): never => {
    throw new TemplateParseError(`template: ${name}:${line}: ${msg}`);
  };
  const colOf = (pos: number): number => {
    const nl = text.lastIndexOf('\n', pos - 1);
    return pos - nl;
  };
  const peek = (): Tok => toks[i]!;
  const next = (): Tok => {
    const t = toks[i]!;
    if (t.kind === 'error') fail(t.line, t.val);
    i++;
    return t;
  };
  const skipSpace = (): void => {
    while (toks[i]!.kind === 'space') i++;
  };
  const nextNonSpace = (): Tok => {
    skipSpace();
    return next();
  };
  const peekNonSpace = (): Tok => {
    skipSpace();
    const t = toks[i]!;
    if (t.kind === 'error') fail(t.line, t.val);
    return t;
  };
  const hasVar = (v: string): boolean => scopes.some((s) => s.includes(v));
  const tokDesc = (t: Tok): string => {
    if (t.kind === 'eof') return 'EOF';
    if (t.kind === 'right') return '"}}"';
    if (t.kind === 'rparen') return '")"';
    return `<${t.val}>`;
  };

  const parseOperand = (ctx: string): Operand | undefined => {
    const t = peekNonSpace();
    let op: Operand;
    switch (t.kind) {
      case 'field':
        next();
        op = { kind: 'field', idents: t.val.slice(1).split('.') };
        break;
      case 'variable': {
        next();
        const name = t.val;
        if (!hasVar(name)) fail(t.line, `undefined variable "${name}"`);
        op = { kind: 'variable', name, idents: [] };
        break;
      }
      case 'dot':
        next();
        op = { kind: 'dot' };
        break;
      case 'identifier':
        next();
        if (!funcs.has(t.val)) fail(t.line, `function "${t.val}" not defined`);
        op = { kind: 'identifier', name: t.val };
        break;
      case 'string':
      case 'rawstring': {
        next();
        let v: string;
        try {
          v = t.kind === 'rawstring' ? t.val.slice(1, -1).replace(/\r/g, '') : unquoteGo(t.val);
        } catch {
          return fail(t.line, `invalid syntax`);
        }
        op = { kind: 'string', value: v };
        break;
      }
      case 'char': {
        next();
        const s = unquoteGo(`"${t.val.slice(1, -1)}"`);
        op = { kind: 'number', value: s.codePointAt(0) ?? 0, isInt: true, text: t.val };
        break;
      }
      case 'number': {
        next();
        const clean = t.val.replace(/_/g, '');
        let v: number;
        let isInt: boolean;
        if (/^[+-]?0[xX]/.test(clean) || /^[+-]?0[bB]/.test(clean) || /^[+-]?0[oO]/.test(clean)) {
          const neg = clean.startsWith('-');
          const body = clean.replace(/^[+-]/, '');
          v = Number(body) * (neg ? -1 : 1);
          isInt = true;
        } else {
          v = Number(clean);
          isInt = /^[+-]?\d+$/.test(clean);
          if (isInt && /^[+-]?0\d+$/.test(clean)) v = parseInt(clean, 8);
        }
        if (Number.isNaN(v)) fail(t.line, `illegal number syntax: "${t.val}"`);
        op = { kind: 'number', value: v, isInt, text: t.val };
        break;
      }
      case 'bool':
        next();
        op = { kind: 'bool', value: t.val === 'true' };
        break;
      case 'nil':
        next();
        op = { kind: 'nil' };
        break;
      case 'lparen': {
        next();
        const pipe = parsePipe('parenthesized pipeline', 'rparen', false);
        op = { kind: 'pipe', pipe, idents: [] };
        break;
      }
      default:
        return undefined;
    }
    // chained fields: (x).A.B or $x.A.B
    while (toks[i]!.kind === 'field') {
      const f = next();
      const idents = f.val.slice(1).split('.');
      if (op.kind === 'variable' || op.kind === 'pipe' || op.kind === 'field') op = { ...op, idents: [...op.idents, ...idents] };
      else if (op.kind === 'dot') op = { kind: 'field', idents };
      else fail(f.line, `unexpected . after term "${t.val}"`);
    }
    void ctx;
    return op;
  };

  const parseCommand = (ctx: string, end: TokKind): Command => {
    const args: Operand[] = [];
    const startTok = peekNonSpace();
    for (;;) {
      const op = parseOperand(ctx);
      if (op !== undefined) {
        args.push(op);
        const after = toks[i]!;
        if (after.kind === 'error') fail(after.line, after.val);
        if (after.kind !== 'space' && after.kind !== end && after.kind !== 'pipe' && after.kind !== 'rparen' && after.kind !== 'right') {
          fail(after.line, `unexpected ${tokDesc(after)} in operand`);
        }
        continue;
      }
      const t = peekNonSpace();
      if (t.kind === end || t.kind === 'pipe') break;
      if (t.kind === 'eof') fail(t.line, 'unexpected EOF');
      fail(t.line, `unexpected ${tokDesc(t)} in ${ctx}`);
    }
    if (args.length === 0) fail(peek().line, 'empty command');
    return { args, pos: startTok.pos, text: text.slice(startTok.pos, toks[i]!.pos).trim() };
  };

  const parsePipe = (ctx: string, end: TokKind, allowDecl: boolean): Pipe => {
    const start = peekNonSpace();
    const decl: string[] = [];
    let isAssign = false;
    if (allowDecl && start.kind === 'variable') {
      // look ahead for := or = (also `$i, $x :=` in range)
      const save = i;
      const vars: string[] = [];
      let ok = false;
      for (;;) {
        const v = peekNonSpace();
        if (v.kind !== 'variable') break;
        next();
        vars.push(v.val);
        const a = peekNonSpace();
        if (a.kind === 'declare' || a.kind === 'assign') {
          next();
          isAssign = a.kind === 'assign';
          ok = true;
          break;
        }
        if (a.kind === 'comma' && ctx === 'range' && vars.length === 1) {
          next();
          continue;
        }
        break;
      }
      if (ok) {
        for (const v of vars) {
          if (isAssign) {
            if (!hasVar(v)) fail(start.line, `undefined variable "${v}"`);
          } else scopes[scopes.length - 1]!.push(v);
        }
        decl.push(...vars);
      } else i = save;
    }
    const cmds: Command[] = [];
    for (;;) {
      const t = peekNonSpace();
      if (t.kind === end) {
        next();
        break;
      }
      if (t.kind === 'eof') fail(t.line, 'unexpected EOF');
      cmds.push(parseCommand(ctx, end));
      const s = peekNonSpace();
      // Go (1.19, promtool 2.42) accepts a trailing pipe: `{{ $value | }}`.
      if (s.kind === 'pipe') next();
    }
    if (cmds.length === 0) fail(start.line, `missing value for ${ctx}`);
    // a declared-variable's check: `$x :=` must be followed by commands (checked above)
    const last = toks[i - 1]!;
    return { decl, isAssign, cmds, line: start.line, col: colOf(start.pos), text: text.slice(start.pos, last.pos) };
  };

  type Stop = 'else' | 'end' | 'eof';
  const parseList = (): { list: TemplateNode[]; stop: Stop; stopTok: Tok } => {
    const list: TemplateNode[] = [];
    for (;;) {
      const t = next();
      if (t.kind === 'eof') return { list, stop: 'eof', stopTok: t };
      if (t.kind === 'text') {
        list.push({ kind: 'text', text: t.val });
        continue;
      }
      if (t.kind !== 'left') fail(t.line, `unexpected ${tokDesc(t)}`);
      const k = peekNonSpace();
      if (k.kind === 'keyword') {
        next();
        switch (k.val) {
          case 'end': {
            const r = nextNonSpace();
            if (r.kind !== 'right') fail(r.line, `unexpected ${tokDesc(r)} in end`);
            return { list, stop: 'end', stopTok: k };
          }
          case 'else':
            return { list, stop: 'else', stopTok: k };
          case 'if':
          case 'with':
          case 'range':
            list.push(parseControl(k.val, k));
            continue;
          case 'break':
          case 'continue': {
            if (rangeDepth === 0) fail(k.line, `{{${k.val}}} outside {{range}}`);
            const r = nextNonSpace();
            if (r.kind !== 'right') fail(r.line, `unexpected ${tokDesc(r)} in {{${k.val}}}`);
            list.push({ kind: k.val });
            continue;
          }
          case 'define':
          case 'template':
          case 'block': {
            const nt = nextNonSpace();
            if (nt.kind !== 'string' && nt.kind !== 'rawstring') fail(nt.line, `unexpected ${tokDesc(nt)} in ${k.val} clause`);
            const tname = nt.kind === 'rawstring' ? nt.val.slice(1, -1) : unquoteGo(nt.val);
            let pipe: Pipe | undefined;
            if (k.val === 'define') {
              const r = nextNonSpace();
              if (r.kind !== 'right') fail(r.line, `unexpected ${tokDesc(r)} in define clause`);
            } else if (peekNonSpace().kind === 'right') next();
            else pipe = parsePipe(k.val, 'right', false);
            if (k.val !== 'template') {
              const saved = scopes;
              const savedDepth = rangeDepth;
              scopes = [['$']];
              rangeDepth = 0;
              const body = parseList();
              scopes = saved;
              rangeDepth = savedDepth;
              if (body.stop !== 'end') fail(body.stopTok.line, body.stop === 'eof' ? 'unexpected EOF' : 'unexpected {{else}}');
              defines.set(tname, body.list);
            }
            if (k.val !== 'define') list.push({ kind: 'template', name: tname, pipe, pos: k.pos, text: `{{template ${goQuoteName(tname)}${pipe === undefined ? '' : ` ${pipe.text.trim()}`}}}` });
            continue;
          }
          default:
            fail(k.line, `unexpected <${k.val}>`);
        }
      }
      const pipe = parsePipe('command', 'right', true);
      list.push({ kind: 'action', pipe, line: k.line, col: colOf(k.pos) });
    }
  };

  const parseControl = (kw: 'if' | 'with' | 'range', kwTok: Tok): TemplateNode => {
    scopes.push([]);
    const pipe = parsePipe(kw, 'right', true);
    if (kw === 'range') rangeDepth++;
    const body = parseList();
    if (kw === 'range') rangeDepth--;
    let elseList: TemplateNode[] | undefined;
    if (body.stop === 'eof') fail(body.stopTok.line, 'unexpected EOF');
    if (body.stop === 'else') {
      scopes.pop();
      scopes.push([]);
      const after = peekNonSpace();
      if ((kw === 'if' || kw === 'with') && after.kind === 'keyword' && after.val === kw) {
        // {{else if ...}} / {{else with ...}}: a nested control ending with the same {{end}}
        next();
        elseList = [parseControl(kw, after)];
      } else {
        const r = nextNonSpace();
        if (r.kind !== 'right') fail(r.line, `unexpected ${tokDesc(r)} in else`);
        const e = parseList();
        if (e.stop === 'eof') fail(e.stopTok.line, 'unexpected EOF');
        if (e.stop === 'else') fail(e.stopTok.line, `expected end; found {{else}}`);
        elseList = e.list;
      }
    }
    scopes.pop();
    return { kind: kw, pipe, list: body.list, elseList, line: kwTok.line, col: colOf(kwTok.pos) };
  };

  const top = parseList();
  if (top.stop === 'end') fail(top.stopTok.line, 'unexpected {{end}}');
  if (top.stop === 'else') fail(top.stopTok.line, 'unexpected {{else}}');
  return { name, text, root: top.list, defines };
}
