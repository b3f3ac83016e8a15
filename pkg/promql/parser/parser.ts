import { Matcher, MatchType, MetricName } from '../../labels/index.js';
import { goQuote } from '../../labels/index.js';
import type {
  AggregateExpr,
  AggregateOp,
  BinaryExpr,
  BinaryOp,
  Call,
  DurationExpr,
  DurationOp,
  Expr,
  FillValues,
  MatrixSelector,
  NumberLiteral,
  PositionRange,
  StartOrEnd,
  SubqueryExpr,
  UnaryExpr,
  ValueType,
  VectorMatchCardinality,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { exprType } from './ast.js';
import { evalDurationExpr } from './duration.js';
import { FUNCTIONS } from './functions.js';
import { AGGREGATORS, describeToken, lex } from './lexer.js';
import type { Token, TokenType } from './lexer.js';
import { ParseError } from './parse-error.js';
import { parseGoDuration, parseGoNumber } from './literals.js';
import { unquoteString } from './unquote.js';
import { maxDepth, postOrder } from './walk.js';

/**
 * ParseOptions switch on Prometheus's experimental PromQL features; all default to off, as in
 * Prometheus. The promqltest conformance scripts expect all of them on.
 */
export interface ParseOptions {
  /** enableExperimentalFunctions allows experimental functions and limitk/limit_ratio. */
  readonly enableExperimentalFunctions?: boolean;
  /** experimentalDurationExpr allows arithmetic in ranges, steps and offsets (`[5m+1m]`, `step()`). */
  readonly experimentalDurationExpr?: boolean;
  /** enableExtendedRangeSelectors allows the `anchored` and `smoothed` modifiers. */
  readonly enableExtendedRangeSelectors?: boolean;
  /** enableBinopFillModifiers allows `fill(v)`, `fill_left(v)`, `fill_right(v)` on binary operators. */
  readonly enableBinopFillModifiers?: boolean;
}

/** ALL_FEATURES enables every experimental parser feature (what promqltest runs with). */
export const ALL_FEATURES: ParseOptions = Object.freeze({
  enableExperimentalFunctions: true,
  experimentalDurationExpr: true,
  enableExtendedRangeSelectors: true,
  enableBinopFillModifiers: true,
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const BIN_PREC: Readonly<Record<string, number>> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  atan2: 5,
  '</': 5,
  '>/': 5,
  '^': 6,
};
const COMPARISON = new Set(['==', '!=', '<', '<=', '>', '>=']);
const SET_OPS = new Set(['and', 'or', 'unless']);
/** Tokens that may stand for a metric name (Prometheus metric_identifier). */
const METRIC_IDENT_TOKENS = new Set<string>([
  'IDENTIFIER', 'METRIC_IDENTIFIER', 'avg', 'bottomk', 'by', 'count', 'count_values', 'group', 'and', 'or', 'unless',
  'max', 'min', 'offset', 'quantile', 'stddev', 'stdvar', 'sum', 'topk', 'without', 'start', 'end', 'limitk',
  'limit_ratio', 'step', 'range', 'anchored', 'smoothed',
]);
const PARAM_AGGREGATORS = new Set(['topk', 'bottomk', 'count_values', 'quantile', 'limitk', 'limit_ratio']);
const LEGACY_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Thrown internally to stop at the first error; converted to ParseError by parseExpr. */
class Stop {
  constructor(
    readonly msg: string,
    readonly range: PositionRange,
  ) {}
}

/**
 * parseExpr parses a PromQL expression into an immutable AST and type-checks it as Prometheus
 * does (parser.ParseExpr + checkAST). It throws a ParseError carrying Prometheus's message and
 * position for the first problem found; it never throws anything else for any input string.
 */
export function parseExpr(input: string, options: ParseOptions = {}): Expr {
  return new Parser(input, options).parseTop();
}

/**
 * parseMetricSelector parses a series selector such as `up{job="x"}` or `{__name__=~"a.*"}` (the
 * HTTP API's `match[]` parameter) and returns its matchers, the `__name__` matcher included.
 */
export function parseMetricSelector(input: string): Matcher[] {
  return new Parser(input, {}).parseSelectorOnly();
}

class Parser {
  readonly #input: string;
  readonly #opts: ParseOptions;
  readonly #toks: Token[];
  #i = 0;
  /** Innermost grammar context with an error rule (Prometheus's yacc recovery), for messages. */
  readonly #ctx: string[] = [];
  readonly #checked = new Map<Expr, ValueType>();

  constructor(input: string, opts: ParseOptions) {
    this.#input = input;
    this.#opts = opts;
    this.#toks = lex(input);
  }

  parseTop(): Expr {
    try {
      if (this.#peek().type === 'EOF') this.#fail('no expression found in input', { start: 0, end: 0 });
      const e = this.#expr(0);
      this.#expectEnd();
      // A deep tree (long operator chains) is checked bottom-up, so each check finds its
      // operands done and nothing recurses deeply; shallow trees keep the recursive order.
      if (maxDepth(e) > DEEP) for (const n of postOrder(e)) this.#check(n);
      this.#check(e);
      return finish(e, this.#input);
    } catch (err) {
      throw this.#convert(err);
    }
  }

  parseSelectorOnly(): Matcher[] {
    try {
      const t = this.#peek();
      if (!METRIC_IDENT_TOKENS.has(t.type) && t.type !== '{') this.#unexpected('', '');
      const vs = this.#vectorSelector();
      this.#expectEnd();
      this.#check(vs);
      return [...vs.matchers];
    } catch (err) {
      throw this.#convert(err);
    }
  }

  #convert(err: unknown): unknown {
    if (err instanceof Stop) {
      const conv = byteConverter(this.#input);
      return new ParseError(err.msg, { start: conv(err.range.start), end: conv(err.range.end) }, this.#input);
    }
    if (err instanceof RangeError) {
      // Deep recursion on pathological input.
      return new ParseError('expression nesting too deep', { start: 0, end: 0 }, this.#input);
    }
    return err;
  }

  // ---- token helpers ----

  #peek(k = 0): Token {
    return this.#toks[Math.min(this.#i + k, this.#toks.length - 1)]!;
  }

  #nextTok(): Token {
    const t = this.#peek();
    if (t.type === 'ERROR') this.#fail(t.val, { start: t.pos, end: t.end });
    if (this.#i < this.#toks.length - 1) this.#i++;
    return t;
  }

  /** Reads the next token; lexer errors surface here, as in Prometheus's Lex(). */
  #tok(): Token {
    const t = this.#peek();
    if (t.type === 'ERROR') this.#fail(t.val, { start: t.pos, end: t.end });
    return t;
  }

  #fail(msg: string, range: PositionRange): never {
    throw new Stop(msg, range);
  }

  /** Reports the current token as unexpected, like Prometheus's parser.unexpected(). */
  #unexpected(context: string, expected: string): never {
    if (context === '') context = this.#ctx.at(-1) ?? '';
    const t = this.#tok();
    let msg = `unexpected ${describeToken(t, goQuote)}`;
    if (context !== '') msg += ` in ${context}`;
    if (expected !== '') msg += `, expected ${expected}`;
    this.#fail(msg, { start: t.pos, end: t.end });
  }

  #expect(type: TokenType, context: string, expected: string): Token {
    if (this.#tok().type !== type) this.#unexpected(context, expected);
    return this.#nextTok();
  }

  #expectEnd(): void {
    const t = this.#tok();
    if (t.type !== 'EOF') this.#unexpected('', '');
  }

  // ---- expressions ----

  /**
   * #expr parses an expression whose binary operators bind at least as tightly as minPrec
   * (precedence climbing). Operator chains, parentheses and unary operators nest through an
   * explicit stack rather than recursion, so `((((…))))` or `a+(b+(c+…))` may be nested as deep
   * as Prometheus's table-driven parser allows (function calls and aggregations still recurse).
   */
  #expr(minPrec: number): Expr {
    // Frames: a 'loop' frame is one precedence-climbing loop (its lhs, and the operator whose
    // right operand is being parsed); 'unary' and 'paren' frames wait for their operand.
    type Frame =
      | { k: 'loop'; minPrec: number; lhs: Expr | null; op: BinaryOp | null; mods: { returnBool: boolean; matching: Mutable<VectorMatching> } | null }
      | { k: 'unary'; tok: Token }
      | { k: 'paren'; tok: Token }
      | { k: 'call'; id: Token; args: Expr[] }
      | { k: 'agg'; head: AggHead; args: Expr[] };
    const stack: Frame[] = [{ k: 'loop', minPrec, lhs: null, op: null, mods: null }];
    for (;;) {
      // Parse the start of an operand: unary signs and open parentheses push frames.
      let v: Expr;
      const t = this.#tok();
      if (t.type === '+' || t.type === '-') {
        this.#nextTok();
        stack.push({ k: 'unary', tok: t }, { k: 'loop', minPrec: BIN_PREC['^']!, lhs: null, op: null, mods: null });
        continue;
      }
      if (t.type === '(') {
        this.#nextTok();
        stack.push({ k: 'paren', tok: t }, { k: 'loop', minPrec: 0, lhs: null, op: null, mods: null });
        continue;
      }
      if (AGGREGATORS.has(t.type) && (this.#peek(1).type === '(' || this.#peek(1).type === 'by' || this.#peek(1).type === 'without')) {
        // The aggregation's context stays pushed until its closing parenthesis (#finishAggregate).
        this.#ctx.push('aggregation');
        const head = this.#aggregateHead();
        if (this.#tok().type !== ')') {
          stack.push({ k: 'agg', head, args: [] }, { k: 'loop', minPrec: 0, lhs: null, op: null, mods: null });
          continue;
        }
        v = this.#postfix(this.#finishAggregate(head, []));
      } else if (CALL_NAME_TOKENS.has(t.type) && this.#peek(1).type === '(') {
        const id = this.#nextTok();
        this.#nextTok(); // '('
        if (this.#tok().type !== ')') {
          stack.push({ k: 'call', id, args: [] }, { k: 'loop', minPrec: 0, lhs: null, op: null, mods: null });
          continue;
        }
        v = this.#postfix(this.#finishCall(id, [], this.#nextTok()));
      } else {
        v = this.#postfix(this.#primary());
      }
      // Hand v to the frames waiting for it until one needs another operand.
      for (;;) {
        const f = stack[stack.length - 1]!;
        if (f.k === 'unary') {
          stack.pop();
          v = this.#applyUnary(f.tok, v);
          continue;
        }
        if (f.k === 'call' || f.k === 'agg') {
          f.args.push(v);
          const sep = this.#tok();
          if (sep.type === ',') {
            this.#nextTok();
            if (this.#tok().type === ')') this.#fail('trailing commas not allowed in function call args', { start: sep.pos, end: sep.end });
            stack.push({ k: 'loop', minPrec: 0, lhs: null, op: null, mods: null });
            break;
          }
          if (sep.type !== ')') this.#unexpected(f.k === 'agg' ? 'aggregation' : '', '');
          stack.pop();
          v = this.#postfix(f.k === 'call' ? this.#finishCall(f.id, f.args, this.#nextTok()) : this.#finishAggregate(f.head, f.args));
          continue;
        }
        if (f.k === 'paren') {
          stack.pop();
          const close = this.#tok();
          if (close.type !== ')') this.#unexpected('', '');
          this.#nextTok();
          v = this.#postfix({ kind: 'ParenExpr', expr: v, posRange: { start: f.tok.pos, end: close.end } });
          continue;
        }
        const lhs = f.op === null ? v : this.#newBinary(f.op, f.lhs!, v, f.mods!);
        const op = this.#tok();
        const prec = BIN_PREC[op.type];
        if (prec === undefined || prec < f.minPrec) {
          stack.pop();
          if (stack.length === 0) return lhs;
          v = lhs;
          continue;
        }
        this.#nextTok();
        f.lhs = lhs;
        f.op = op.type as BinaryOp;
        f.mods = this.#binModifiers();
        stack.push({ k: 'loop', minPrec: op.type === '^' ? prec : prec + 1, lhs: null, op: null, mods: null });
        break;
      }
    }
  }

  #binModifiers(): { returnBool: boolean; matching: Mutable<VectorMatching> } {
    let returnBool = false;
    const matching: Mutable<VectorMatching> = {
      card: 'one-to-one',
      matchingLabels: [],
      on: false,
      include: [],
      fillValues: { lhs: null, rhs: null },
    };
    if (this.#tok().type === 'bool') {
      this.#nextTok();
      returnBool = true;
    }
    const t = this.#tok();
    if (t.type === 'on' || t.type === 'ignoring') {
      this.#nextTok();
      matching.on = t.type === 'on';
      matching.matchingLabels = this.#groupingLabels();
      const g = this.#tok();
      if (g.type === 'group_left' || g.type === 'group_right') {
        this.#nextTok();
        matching.card = g.type === 'group_left' ? 'many-to-one' : 'one-to-many';
        if (this.#tok().type === '(') matching.include = this.#groupingLabels();
      }
    }
    const fill: { lhs: number | null; rhs: number | null } = { lhs: null, rhs: null };
    for (;;) {
      const f = this.#tok();
      if (f.type !== 'fill' && f.type !== 'fill_left' && f.type !== 'fill_right') break;
      this.#nextTok();
      this.#expect('(', 'fill modifier', '"("');
      let sign = 1;
      const s = this.#tok();
      if (s.type === '+' || s.type === '-') {
        this.#nextTok();
        if (s.type === '-') sign = -1;
      }
      const n = this.#tok();
      if (n.type !== 'NUMBER' && n.type !== 'DURATION') this.#unexpected('fill modifier', 'number');
      const v = sign * this.#numberValue(this.#nextTok());
      this.#expect(')', 'fill modifier', '")"');
      if (f.type !== 'fill_right') fill.lhs = v;
      if (f.type !== 'fill_left') fill.rhs = v;
    }
    matching.fillValues = fill;
    return { returnBool, matching };
  }

  #newBinary(op: BinaryOp, lhs: Expr, rhs: Expr, mods: { returnBool: boolean; matching: Mutable<VectorMatching> }): Expr {
    const node: Mutable<BinaryExpr> = {
      kind: 'BinaryExpr',
      op,
      lhs,
      rhs,
      matching: mods.matching,
      returnBool: mods.returnBool,
      posRange: { start: lhs.posRange.start, end: rhs.posRange.end },
    };
    const fv = mods.matching.fillValues;
    if (!this.#opts.enableBinopFillModifiers && (fv.lhs !== null || fv.rhs !== null)) {
      this.#fail('binop fill modifiers are experimental and not enabled', node.posRange);
    }
    return node;
  }

  /** #applyUnary applies a unary sign to its operand (folding it into a number literal). */
  #applyUnary(t: Token, operand: Expr): Expr {
    if (operand.kind === 'NumberLiteral') {
      const n = operand as Mutable<NumberLiteral>;
      if (t.type === '-') n.val = -n.val;
      n.posRange = { start: t.pos, end: n.posRange.end };
      return n;
    }
    const u: UnaryExpr = { kind: 'UnaryExpr', op: t.type as UnaryExpr['op'], expr: operand, posRange: { start: t.pos, end: operand.posRange.end } };
    return u;
  }

  #primary(): Expr {
    const t = this.#tok();
    switch (t.type) {
      case 'NUMBER':
      case 'DURATION':
        this.#nextTok();
        return this.#numberLiteral(t);
      case 'STRING':
        this.#nextTok();
        return { kind: 'StringLiteral', val: this.#unquote(t), posRange: { start: t.pos, end: t.end } };
      case '(': {
        this.#nextTok();
        const inner = this.#expr(0);
        const close = this.#tok();
        if (close.type !== ')') this.#unexpected('', '');
        this.#nextTok();
        return { kind: 'ParenExpr', expr: inner, posRange: { start: t.pos, end: close.end } };
      }
      case '{':
        return this.#vectorSelector();
    }
    if (METRIC_IDENT_TOKENS.has(t.type)) return this.#vectorSelector();
    this.#unexpected('', '');
  }

  #numberLiteral(t: Token): Mutable<NumberLiteral> {
    return { kind: 'NumberLiteral', val: this.#numberValue(t), duration: t.type === 'DURATION', posRange: { start: t.pos, end: t.end } };
  }

  #numberValue(t: Token): number {
    const range = { start: t.pos, end: t.end };
    if (t.type === 'DURATION') {
      const r = parseGoDuration(t.val);
      if (typeof r === 'string') this.#fail(r, range);
      return r / 1000;
    }
    const r = parseGoNumber(t.val);
    if (typeof r === 'string') this.#fail(`error parsing number: ${r}`, range);
    return r;
  }

  #unquote(t: Token): string {
    const r = unquoteString(t.val);
    if (r.error !== undefined) this.#fail(`error unquoting string ${goQuote(t.val)}: ${r.error}`, { start: t.pos, end: t.end });
    return r.value;
  }

  /** #finishCall builds a call once its arguments and closing parenthesis are parsed. */
  #finishCall(id: Token, args: Expr[], close: Token): Expr {
    const name = id.val;
    const fn = FUNCTIONS.get(name);
    const idRange = { start: id.pos, end: id.end };
    if (fn === undefined) this.#fail(`unknown function with name ${goQuote(name)}`, idRange);
    if (fn.experimental && !this.#opts.enableExperimentalFunctions) this.#fail(`function ${goQuote(name)} is not enabled`, idRange);
    const call: Call = { kind: 'Call', func: fn, args, posRange: { start: id.pos, end: close.end } };
    return call;
  }

  /** #aggregateHead parses an aggregation up to its opening parenthesis (a leading by/without). */
  #aggregateHead(): AggHead {
    const opTok = this.#nextTok();
    let grouping: string[] | null = null;
    let without = false;
    const mod = this.#tok();
    if (mod.type === 'by' || mod.type === 'without') {
      this.#nextTok();
      without = mod.type === 'without';
      grouping = this.#groupingLabels();
    }
    if (this.#tok().type !== '(') this.#unexpected('aggregation', '');
    this.#nextTok();
    return { opTok, grouping, without };
  }

  /**
   * #finishAggregate consumes the closing parenthesis (the current token) and a trailing
   * by/without, checks the arguments and builds the node; it pops the aggregation context.
   */
  #finishAggregate(head: AggHead, args: Expr[]): Expr {
    const op = head.opTok.type as AggregateOp;
    let { grouping, without } = head;
    let close = this.#nextTok();
    if (grouping === null) {
      const m2 = this.#tok();
      if (m2.type === 'by' || m2.type === 'without') {
        this.#nextTok();
        without = m2.type === 'without';
        grouping = this.#groupingLabels();
        close = this.#toks[this.#i - 1]!;
      }
    }
    const posRange = { start: head.opTok.pos, end: close.end };
    if (args.length === 0) this.#fail('no arguments for aggregate expression provided', posRange);
    let desired = 1;
    let param: Expr | null = null;
    if (PARAM_AGGREGATORS.has(op)) {
      if (!this.#opts.enableExperimentalFunctions && (op === 'limitk' || op === 'limit_ratio')) {
        this.#fail(`${op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions`, posRange);
      }
      desired = 2;
      param = args[0]!;
    }
    if (args.length !== desired) {
      this.#fail(`wrong number of arguments for aggregate expression provided, expected ${desired}, got ${args.length}`, posRange);
    }
    this.#ctx.pop();
    const node: AggregateExpr = { kind: 'AggregateExpr', op, expr: args[desired - 1]!, param, grouping: grouping ?? [], without, posRange };
    return node;
  }

  /** Parses `( label, ... )` of by/without/on/ignoring/group_x. */
  #groupingLabels(): string[] {
    if (this.#tok().type !== '(') this.#unexpected('grouping opts', '"("');
    this.#nextTok();
    const out: string[] = [];
    if (this.#tok().type === ')') {
      this.#nextTok();
      return out;
    }
    for (;;) {
      const t = this.#tok();
      if (t.type === 'STRING') {
        this.#nextTok();
        out.push(this.#unquote(t));
      } else if ((t.type === 'IDENTIFIER' || /^[a-z_0-9]+$/.test(t.type)) && LEGACY_LABEL.test(t.val) && t.type !== 'NUMBER' && t.type !== 'DURATION') {
        this.#nextTok();
        out.push(t.val);
      } else {
        this.#unexpected('grouping opts', 'label');
      }
      const sep = this.#tok();
      if (sep.type === ',') {
        this.#nextTok();
        if (this.#tok().type === ')') {
          this.#nextTok();
          return out;
        }
        continue;
      }
      if (sep.type === ')') {
        this.#nextTok();
        return out;
      }
      this.#unexpected('grouping opts', '"," or ")"');
    }
  }

  #vectorSelector(): Mutable<VectorSelector> {
    const t = this.#tok();
    let name = '';
    let start = t.pos;
    let end = t.end;
    const matchers: Matcher[] = [];
    if (t.type !== '{') {
      this.#nextTok();
      name = t.val;
    }
    if (this.#tok().type === '{') {
      const open = this.#nextTok();
      if (name === '') start = open.pos;
      for (;;) {
        const lt = this.#tok();
        if (lt.type === '}') break;
        if (lt.type === 'IDENTIFIER' || lt.type === 'STRING') {
          this.#nextTok();
          const label = lt.type === 'STRING' ? this.#unquote(lt) : lt.val;
          const op = this.#tok();
          if (op.type === '=' || op.type === '!=' || op.type === '=~' || op.type === '!~') {
            this.#nextTok();
            const vt = this.#tok();
            if (vt.type !== 'STRING') this.#unexpected('label matching', 'string');
            this.#nextTok();
            matchers.push(this.#newMatcher(op.type, label, this.#unquote(vt), { start: lt.pos, end: vt.end }));
          } else if (lt.type === 'STRING') {
            matchers.push(this.#newMatcher('=', MetricName, label, { start: lt.pos, end: lt.end }));
          } else {
            this.#unexpected('label matching', 'label matching operator');
          }
        } else {
          this.#unexpected('label matching', 'identifier or "}"');
        }
        const sep = this.#tok();
        if (sep.type === ',') {
          this.#nextTok();
          continue;
        }
        if (sep.type === '}') break;
        this.#unexpected('label matching', '"," or "}"');
      }
      end = this.#nextTok().end;
    }
    if (name !== '') matchers.push(this.#newMatcher('=', MetricName, name, { start: t.pos, end: t.end }));
    return {
      kind: 'VectorSelector',
      name,
      matchers,
      offset: 0,
      offsetExpr: null,
      timestamp: null,
      startOrEnd: null,
      anchored: false,
      smoothed: false,
      bypassEmptyMatcherCheck: false,
      posRange: { start, end },
    };
  }

  #newMatcher(op: string, name: string, value: string, range: PositionRange): Matcher {
    const type = op === '=' ? MatchType.Equal : op === '!=' ? MatchType.NotEqual : op === '=~' ? MatchType.Regexp : MatchType.NotRegexp;
    try {
      return new Matcher(type, name, value);
    } catch (err) {
      this.#fail((err as Error).message.replace(/^(error parsing regexp: )+/, 'error parsing regexp: '), range);
    }
  }

  // ---- postfix modifiers: [range], [range:step], offset, @, anchored, smoothed ----

  #postfix(e: Expr): Expr {
    for (;;) {
      const t = this.#tok();
      switch (t.type) {
        case '[':
          e = this.#rangeOrSubquery(e);
          break;
        case 'offset':
          this.#nextTok();
          e = this.#offset(e, t);
          break;
        case '@':
          this.#nextTok();
          e = this.#at(e);
          break;
        case 'anchored':
        case 'smoothed':
          this.#nextTok();
          this.#extended(e, t.type);
          break;
        default:
          return e;
      }
    }
  }

  #rangeOrSubquery(e: Expr): Expr {
    const open = this.#nextTok();
    const first = this.#tok();
    if (first.type === ']' || first.type === ':' || first.type === '::' || first.type === 'EOF') this.#unexpected('subquery selector', 'duration');
    const range = this.#durationArg();
    const t = this.#tok();
    if (t.type === ']') {
      const close = this.#nextTok();
      let err = '';
      if (e.kind !== 'VectorSelector') err = 'ranges only allowed for vector selectors';
      else if (e.offset !== 0 || e.offsetExpr !== null) err = 'no offset modifiers allowed before range';
      else if (e.timestamp !== null || e.startOrEnd !== null) err = 'no @ modifiers allowed before range';
      if (err !== '') this.#fail(err, { start: open.pos, end: close.end });
      const ms: Mutable<MatrixSelector> = {
        kind: 'MatrixSelector',
        vectorSelector: e as VectorSelector,
        range: range.ms,
        rangeExpr: range.expr,
        posRange: { start: e.posRange.start, end: close.end },
      };
      return ms;
    }
    if (t.type !== ':' && t.type !== '::') this.#unexpected('subquery or range', '":" or "]"');
    this.#nextTok();
    let step = { ms: 0, expr: null as DurationExpr | null };
    if (this.#tok().type !== ']') {
      const s = this.#tok();
      if (s.type === 'EOF') this.#unexpected('subquery selector', 'duration or "]"');
      step = this.#durationArg();
      if (this.#tok().type !== ']') this.#unexpected('subquery selector', '"]"');
    }
    const close = this.#nextTok();
    const sq: Mutable<SubqueryExpr> = {
      kind: 'SubqueryExpr',
      expr: e,
      range: range.ms,
      rangeExpr: range.expr,
      step: step.ms,
      stepExpr: step.expr,
      offset: 0,
      offsetExpr: null,
      timestamp: null,
      startOrEnd: null,
      posRange: { start: e.posRange.start, end: close.end },
    };
    return sq;
  }

  /** Parses a range/step inside brackets: a literal or a duration expression. */
  #durationArg(): { ms: number; expr: DurationExpr | null } {
    const d = this.#durExpr(0);
    return this.#resolveDuration(d);
  }

  #resolveDuration(d: Expr): { ms: number; expr: DurationExpr | null } {
    if (d.kind === 'NumberLiteral') return { ms: secondsToMs(d.val), expr: null };
    const de = d as DurationExpr;
    if (!this.#opts.experimentalDurationExpr) this.#fail('experimental duration expression is not enabled', de.posRange);
    let ms = 0;
    if (isConstantDuration(de)) {
      const v = evalDurationExpr(de, { stepMs: 0, rangeMs: 0 });
      if (typeof v === 'string') this.#fail(v, de.posRange);
      ms = v;
    }
    return { ms, expr: de };
  }

  /** Duration expression grammar (inside brackets and after offset): + - * / % ^, unary signs. */
  #durExpr(minPrec: number): Expr {
    let lhs = this.#durUnary();
    for (;;) {
      const t = this.#tok();
      const prec = durPrec(t.type);
      if (prec === 0 || prec < minPrec) return lhs;
      this.#nextTok();
      const rhs = this.#durExpr(t.type === '^' ? prec : prec + 1);
      const node: DurationExpr = {
        kind: 'DurationExpr',
        op: t.type as DurationOp,
        lhs,
        rhs,
        wrapped: false,
        posRange: { start: lhs.posRange.start, end: rhs.posRange.end },
      };
      lhs = node;
    }
  }

  #durUnary(): Expr {
    const t = this.#tok();
    if (t.type === '+' || t.type === '-') {
      this.#nextTok();
      const operand = this.#durExpr(3);
      return this.#applySign(t, operand);
    }
    return this.#durAtom();
  }

  #applySign(t: Token, operand: Expr): Expr {
    if (operand.kind === 'NumberLiteral') {
      const n = operand as Mutable<NumberLiteral>;
      if (t.type === '-') n.val = -n.val;
      n.posRange = { start: t.pos, end: n.posRange.end };
      return n;
    }
    if (t.type === '+') return operand;
    const node: DurationExpr = { kind: 'DurationExpr', op: '-', lhs: null, rhs: operand, wrapped: false, posRange: { start: t.pos, end: operand.posRange.end } };
    return node;
  }

  #durAtom(): Expr {
    const t = this.#tok();
    switch (t.type) {
      case 'NUMBER':
      case 'DURATION':
        this.#nextTok();
        return this.#numberLiteral(t);
      case '(': {
        this.#nextTok();
        const inner = this.#durExpr(0);
        const close = this.#tok();
        if (close.type !== ')') this.#unexpected('duration expression', '")"');
        this.#nextTok();
        return wrapDuration(inner, t.pos, close.end);
      }
      case 'step':
      case 'range': {
        this.#nextTok();
        this.#expect('(', 'duration expression', '"("');
        const close = this.#expect(')', 'duration expression', '")"');
        const node: DurationExpr = { kind: 'DurationExpr', op: t.type, lhs: null, rhs: null, wrapped: false, posRange: { start: t.pos, end: close.end } };
        return node;
      }
      case 'min_of':
      case 'max_of': {
        this.#nextTok();
        this.#expect('(', 'duration expression', '"("');
        const a = this.#durExpr(0);
        this.#expect(',', 'duration expression', '","');
        const b = this.#durExpr(0);
        const close = this.#expect(')', 'duration expression', '")"');
        const node: DurationExpr = { kind: 'DurationExpr', op: t.type, lhs: a, rhs: b, wrapped: false, posRange: { start: t.pos, end: close.end } };
        return node;
      }
    }
    this.#unexpected('duration expression', 'number or duration');
  }

  #offset(e: Expr, offTok: Token): Expr {
    // Outside brackets the offset operand is one signed atom: `offset -5m`, `offset (1h*2)`, `offset step()`.
    const t = this.#tok();
    let d: Expr;
    if (t.type === '+' || t.type === '-') {
      this.#nextTok();
      const a = this.#tok();
      if (!isDurAtomStart(a.type)) this.#unexpected('offset', 'number or duration');
      d = this.#applySign(t, this.#durAtom());
    } else {
      if (!isDurAtomStart(t.type)) this.#unexpected('offset', 'number or duration');
      d = this.#durAtom();
    }
    const { ms, expr } = this.#resolveDuration(d);
    const end = this.#toks[this.#i - 1]!.end;
    void offTok;
    const target = this.#modifierTarget(e, 'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.offset !== 0 || target.offsetExpr !== null) this.#fail('offset may not be set multiple times', e.posRange);
    target.offset = ms;
    target.offsetExpr = expr;
    return withEnd(e, end);
  }

  #at(e: Expr): Expr {
    const t = this.#tok();
    let ts: number | null = null;
    let soe: StartOrEnd = null;
    if (t.type === 'start' || t.type === 'end') {
      this.#nextTok();
      if (this.#tok().type !== '(') this.#unexpected('@', 'timestamp');
      this.#nextTok();
      if (this.#tok().type !== ')') this.#unexpected('@', 'timestamp');
      this.#nextTok();
      soe = t.type;
    } else {
      let sign = 1;
      if (t.type === '+' || t.type === '-') {
        this.#nextTok();
        if (t.type === '-') sign = -1;
      }
      const n = this.#tok();
      if (n.type !== 'NUMBER' && n.type !== 'DURATION') this.#unexpected('@', 'timestamp');
      this.#nextTok();
      const v = sign * this.#numberValue(n);
      if (!Number.isFinite(v) || v >= 9.223372036854776e18 || v <= -9.223372036854776e18) {
        this.#fail(`timestamp out of bounds for @ modifier: ${goFloatF(v)}`, e.posRange);
      }
      ts = Math.round(v * 1000);
    }
    const end = this.#toks[this.#i - 1]!.end;
    const target = this.#modifierTarget(e, '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery');
    if (target.timestamp !== null || target.startOrEnd !== null) this.#fail('@ <timestamp> may not be set multiple times', e.posRange);
    target.timestamp = ts;
    target.startOrEnd = soe;
    return withEnd(e, end);
  }

  #extended(e: Expr, which: 'anchored' | 'smoothed'): void {
    if (!this.#opts.enableExtendedRangeSelectors) this.#fail(`${which} modifier is experimental and not enabled`, e.posRange);
    let vs: Mutable<VectorSelector>;
    if (e.kind === 'VectorSelector') vs = e as Mutable<VectorSelector>;
    else if (e.kind === 'MatrixSelector') vs = e.vectorSelector as Mutable<VectorSelector>;
    else if (e.kind === 'SubqueryExpr') this.#fail(`${which} modifier is not supported for subqueries`, e.posRange);
    else this.#fail(`${which} modifier not implemented`, e.posRange);
    if (which === 'anchored') vs.anchored = true;
    else vs.smoothed = true;
    if (vs.anchored && vs.smoothed) this.#fail('anchored and smoothed modifiers cannot be used together', e.posRange);
  }

  #modifierTarget(e: Expr, msg: string): Mutable<VectorSelector> | Mutable<SubqueryExpr> {
    if (e.kind === 'VectorSelector') return e as Mutable<VectorSelector>;
    if (e.kind === 'MatrixSelector') return e.vectorSelector as Mutable<VectorSelector>;
    if (e.kind === 'SubqueryExpr') return e as Mutable<SubqueryExpr>;
    this.#fail(msg, e.posRange);
  }

  // ---- type checks (Prometheus checkAST) ----

  #check(node: Expr): ValueType {
    const done = this.#checked.get(node);
    if (done !== undefined) return done;
    const typ = this.#checkNode(node);
    this.#checked.set(node, typ);
    return typ;
  }

  #checkNode(node: Expr): ValueType {
    const typ = exprType(node);
    switch (node.kind) {
      case 'AggregateExpr':
        this.#expectType(node.expr, 'vector', 'aggregation expression');
        if (node.param !== null) {
          this.#expectType(node.param, node.op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter');
        }
        break;
      case 'BinaryExpr': {
        const lt = this.#check(node.lhs);
        const rt = this.#check(node.rhs);
        const n = node as Mutable<BinaryExpr>;
        const vm = n.matching as Mutable<VectorMatching> | null;
        const isCmp = COMPARISON.has(n.op);
        const isSet = SET_OPS.has(n.op);
        if (n.returnBool && !isCmp) this.#fail('bool modifier can only be used on comparison operators', this.#opRange(n));
        if (isCmp && !n.returnBool && lt === 'scalar' && rt === 'scalar') {
          this.#fail('comparisons between scalars must use BOOL modifier', this.#opRange(n));
        }
        if (vm !== null && isSet && vm.card === 'one-to-one') vm.card = 'many-to-many';
        if (vm !== null && vm.on) {
          for (const l1 of vm.matchingLabels) {
            if (vm.include.includes(l1)) this.#fail(`label ${goQuote(l1)} must not occur in ON and GROUP clause at once`, this.#opRange(n));
          }
        }
        if (lt !== 'scalar' && lt !== 'vector') this.#fail('binary expression must contain only scalar and instant vector types', n.lhs.posRange);
        if (rt !== 'scalar' && rt !== 'vector') this.#fail('binary expression must contain only scalar and instant vector types', n.rhs.posRange);
        if ((lt !== 'vector' || rt !== 'vector') && vm !== null) {
          if (vm.matchingLabels.length > 0 || vm.on) {
            if (vm.matchingLabels.length > 0) this.#fail('vector matching only allowed between instant vectors', n.posRange);
          }
          if (vm.fillValues.lhs !== null || vm.fillValues.rhs !== null) {
            this.#fail('filling in missing series only allowed between instant vectors', n.posRange);
          }
          n.matching = null;
        } else if (isSet && vm !== null) {
          if (vm.card === 'one-to-many' || vm.card === 'many-to-one') this.#fail(`no grouping allowed for ${goQuote(n.op)} operation`, n.posRange);
          if (vm.card !== 'many-to-many') this.#fail('set operations must always be many-to-many', n.posRange);
          if (vm.fillValues.lhs !== null || vm.fillValues.rhs !== null) this.#fail('filling in missing series not allowed for set operators', n.posRange);
        }
        if ((lt === 'scalar' || rt === 'scalar') && isSet) this.#fail(`set operator ${goQuote(n.op)} not allowed in binary scalar expression`, n.posRange);
        break;
      }
      case 'Call': {
        const fn = node.func;
        const nargs = fn.argTypes.length;
        const got = node.args.length;
        if (fn.variadic === 0) {
          if (nargs !== got) this.#fail(`expected ${nargs} argument(s) in call to ${goQuote(fn.name)}, got ${got}`, node.posRange);
        } else {
          const na = nargs - 1;
          if (na > got) this.#fail(`expected at least ${na} argument(s) in call to ${goQuote(fn.name)}, got ${got}`, node.posRange);
          const max = na + fn.variadic;
          if (fn.variadic > 0 && max < got) this.#fail(`expected at most ${max} argument(s) in call to ${goQuote(fn.name)}, got ${got}`, node.posRange);
        }
        if (fn.name === 'info' && got > 1) {
          const a1 = node.args[1]!;
          const t1 = exprType(a1);
          if (t1 !== 'vector') this.#fail(`expected type ${documentedType('vector')} in call to function "info", got ${documentedType(t1)}`, node.posRange);
          if (a1.kind === 'VectorSelector' && a1.name !== '') this.#fail('expected label selectors only, got vector selector instead', a1.posRange);
          else if (a1.kind === 'VectorSelector') (a1 as Mutable<VectorSelector>).bypassEmptyMatcherCheck = true;
          else this.#fail('expected label selectors only', a1.posRange);
        }
        node.args.forEach((arg, idx) => {
          let i = idx;
          if (i >= nargs) {
            if (fn.variadic === 0) return;
            i = nargs - 1;
          }
          const want = fn.argTypes[i]!;
          const t = this.#check(arg);
          if (t !== want) {
            this.#fail(`expected type ${documentedType(want)} in call to function ${goQuote(fn.name)}, got ${documentedType(t)}`, arg.posRange);
          }
        });
        break;
      }
      case 'ParenExpr':
        this.#check(node.expr);
        break;
      case 'UnaryExpr': {
        const t = this.#check(node.expr);
        if (t !== 'scalar' && t !== 'vector') {
          this.#fail(`unary expression only allowed on expressions of type scalar or instant vector, got ${goQuote(documentedType(t))}`, node.posRange);
        }
        break;
      }
      case 'SubqueryExpr': {
        const t = this.#check(node.expr);
        if (t !== 'vector') this.#fail(`subquery is only allowed on instant vector, got ${t} instead`, node.posRange);
        break;
      }
      case 'MatrixSelector':
        this.#check(node.vectorSelector);
        break;
      case 'VectorSelector': {
        if (node.name !== '') {
          for (const m of node.matchers.slice(0, -1)) {
            if (m.name === MetricName) this.#fail(`metric name must not be set twice: ${goQuote(node.name)} or ${goQuote(m.value)}`, node.posRange);
          }
          break;
        }
        if (!node.bypassEmptyMatcherCheck && !node.matchers.some((m) => !m.matches(''))) {
          this.#fail('vector selector must contain at least one non-empty matcher', node.posRange);
        }
        break;
      }
      default:
        break;
    }
    return typ;
  }

  #expectType(node: Expr, want: ValueType, context: string): void {
    const t = this.#check(node);
    if (t !== want) this.#fail(`expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`, node.posRange);
  }

  /** The operator's range in a binary expression, whitespace trimmed (Prometheus opRange). */
  #opRange(n: BinaryExpr): PositionRange {
    const s = this.#input;
    let start = n.lhs.posRange.end;
    while (start < s.length && isSpaceChar(s[start]!)) start++;
    let end = n.rhs.posRange.start - 1;
    while (end > 0 && isSpaceChar(s[end]!)) end--;
    return { start, end };
  }
}

/** AggHead is an aggregation's operator token and leading grouping, parsed before its arguments. */
interface AggHead {
  readonly opTok: Token;
  readonly grouping: string[] | null;
  readonly without: boolean;
}

/** Tokens that start a function call when followed by '('. */
const CALL_NAME_TOKENS = new Set<TokenType>(['IDENTIFIER', 'start', 'end', 'step', 'range', 'min_of', 'max_of']);

/** DEEP is the tree depth from which the type check runs bottom-up instead of recursively. */
const DEEP = 200;

function isSpaceChar(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function durPrec(type: TokenType): number {
  switch (type) {
    case '+':
    case '-':
      return 1;
    case '*':
    case '/':
    case '%':
      return 2;
    case '^':
      return 4;
    default:
      return 0;
  }
}

function isDurAtomStart(type: TokenType): boolean {
  return type === 'NUMBER' || type === 'DURATION' || type === '(' || type === 'step' || type === 'range' || type === 'min_of' || type === 'max_of';
}

function wrapDuration(inner: Expr, start: number, end: number): Expr {
  if (inner.kind === 'DurationExpr') {
    return { ...inner, wrapped: true, posRange: { start, end } };
  }
  const node: DurationExpr = { kind: 'DurationExpr', op: '+', lhs: null, rhs: inner, wrapped: true, posRange: { start, end } };
  return node;
}

function isConstantDuration(e: Expr): boolean {
  if (e.kind === 'NumberLiteral') return true;
  if (e.kind !== 'DurationExpr') return false;
  if (e.op === 'step' || e.op === 'range') return false;
  return (e.lhs === null || isConstantDuration(e.lhs)) && (e.rhs === null || isConstantDuration(e.rhs));
}

/**
 * secondsToMs converts seconds to whole milliseconds via whole nanoseconds, so that durations
 * written in ms (`1001ms`, stored as 1.001 s) come back exact instead of one ms short.
 */
function secondsToMs(s: number): number {
  return Math.trunc(Math.round(s * 1e9) / 1e6);
}

function withEnd(e: Expr, end: number): Expr {
  (e as Mutable<Expr>).posRange = { start: e.posRange.start, end };
  return e;
}

/** documentedType names a type as Prometheus's DocumentedType does in messages. */
function documentedType(t: ValueType): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    default:
      return t;
  }
}

/** Formats like Go's %f (6 decimals). */
function goFloatF(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return v.toFixed(6);
}

/** byteConverter maps UTF-16 indexes of s to UTF-8 byte offsets. */
function byteConverter(s: string): (i: number) => number {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return (i) => i;
  const map = new Int32Array(s.length + 1);
  let b = 0;
  for (let i = 0; i < s.length; i++) {
    map[i] = b;
    const c = s.charCodeAt(i);
    if (c < 0x80) b += 1;
    else if (c < 0x800) b += 2;
    else if (c >= 0xd800 && c <= 0xdbff) b += 4, i++, (map[i] = b - 4);
    else if (c >= 0xdc00 && c <= 0xdfff) b += 3;
    else b += 3;
  }
  map[s.length] = b;
  return (i) => (i < 0 ? i : map[Math.min(i, s.length)]!);
}

/** finish converts positions to byte offsets and freezes every node. */
function finish(e: Expr, input: string): Expr {
  const conv = byteConverter(input);
  const seen = new Set<object>();
  // An explicit work list: trees may be arbitrarily deep. Children are frozen before their
  // parents (a parent is pushed back after them).
  const work: [Expr, boolean][] = [[e, false]];
  const visit = (n: Expr): void => {
    work.push([n, false]);
  };
  while (work.length > 0) {
    const [n, ready] = work.pop()!;
    if (ready) {
      Object.freeze(n);
      continue;
    }
    if (seen.has(n)) continue;
    seen.add(n);
    work.push([n, true]);
    const m = n as Mutable<Expr>;
    m.posRange = Object.freeze({ start: conv(n.posRange.start), end: conv(n.posRange.end) });
    switch (n.kind) {
      case 'AggregateExpr':
        visit(n.expr);
        if (n.param !== null) visit(n.param);
        Object.freeze(n.grouping);
        break;
      case 'BinaryExpr':
        visit(n.lhs);
        visit(n.rhs);
        if (n.matching !== null) {
          Object.freeze(n.matching.matchingLabels);
          Object.freeze(n.matching.include);
          Object.freeze(n.matching.fillValues as FillValues);
          Object.freeze(n.matching);
        }
        break;
      case 'Call':
        n.args.forEach(visit);
        Object.freeze(n.args);
        break;
      case 'DurationExpr':
        if (n.lhs !== null) visit(n.lhs);
        if (n.rhs !== null) visit(n.rhs);
        break;
      case 'MatrixSelector':
        visit(n.vectorSelector);
        if (n.rangeExpr !== null) visit(n.rangeExpr);
        break;
      case 'SubqueryExpr':
        visit(n.expr);
        if (n.rangeExpr !== null) visit(n.rangeExpr);
        if (n.stepExpr !== null) visit(n.stepExpr);
        if (n.offsetExpr !== null) visit(n.offsetExpr);
        break;
      case 'VectorSelector':
        if (n.offsetExpr !== null) visit(n.offsetExpr);
        Object.freeze(n.matchers);
        break;
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        visit(n.expr);
        break;
      default:
        break;
    }
  }
  return e;
}

export type { VectorMatchCardinality };
