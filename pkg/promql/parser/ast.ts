import type { Matcher } from '../../labels/index.js';

/**
 * PositionRange is the half-open range `[start, end)` of UTF-16 code-unit offsets into the query text
 * that a node was parsed from (Prometheus posrange.PositionRange). Nodes the engine synthesises reuse
 * the range of the node they wrap.
 */
export interface PositionRange {
  readonly start: number;
  readonly end: number;
}

/** ValueType is the type an expression evaluates to (Prometheus parser.ValueType without "none"). */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** AggregateOp is the name of an aggregation operator as written in PromQL (lower case). */
export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'count'
  | 'min'
  | 'max'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'count_values'
  | 'quantile'
  | 'limitk'
  | 'limit_ratio';

/**
 * ArithmeticOp is a binary arithmetic operator; `atan2` is a keyword operator with `*` precedence.
 * `</` and `>/` are the experimental native-histogram trim operators (trim buckets below/above a
 * scalar bound), parsed with `*` precedence.
 */
export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2' | '</' | '>/';
/** ComparisonOp is a binary comparison operator; it filters unless the `bool` modifier is given. */
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
/** SetOp is a binary set operator, only allowed between instant vectors. */
export type SetOp = 'and' | 'or' | 'unless';
/** BinaryOp is any binary operator. */
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;
/** UnaryOp is a unary sign operator. */
export type UnaryOp = '+' | '-';

/**
 * VectorMatchCardinality describes how elements of the two sides of a vector binary operation pair
 * up (Prometheus CardOneToOne…CardManyToMany, with their String() spellings).
 */
export type VectorMatchCardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

/**
 * FillValues are the values of the experimental `fill`, `fill_left` and `fill_right` binary
 * modifiers: a side's value is used for series missing on that side. `null` means no filling.
 */
export interface FillValues {
  readonly lhs: number | null;
  readonly rhs: number | null;
}

/** VectorMatching describes how the series of the two sides of a vector binary operation match. */
export interface VectorMatching {
  readonly card: VectorMatchCardinality;
  /** matchingLabels are the `on(...)`/`ignoring(...)` label names, in query order. */
  readonly matchingLabels: readonly string[];
  /** on is true for `on(...)`, false for `ignoring(...)` or no modifier. */
  readonly on: boolean;
  /** include are the `group_left(...)`/`group_right(...)` extra label names. */
  readonly include: readonly string[];
  /** fillValues are the experimental fill modifiers' values (both null when absent). */
  readonly fillValues: FillValues;
}

/**
 * FunctionDef describes a PromQL function (Prometheus parser.Function). `variadic` is 0 for a fixed
 * argument list (exactly `argTypes.length` arguments); otherwise at least `argTypes.length - 1`
 * arguments are required and, when `variadic` is positive, at most `argTypes.length - 1 + variadic`
 * (-1 means unbounded). Arguments beyond `argTypes` take the type of the last argType.
 */
export interface FunctionDef {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  readonly variadic: number;
  readonly returnType: ValueType;
  /** experimental is true for functions Prometheus keeps behind --enable-feature=promql-experimental-functions. */
  readonly experimental: boolean;
}

/** StartOrEnd is the `@ start()` / `@ end()` preprocessor of a selector or subquery, or null. */
export type StartOrEnd = 'start' | 'end' | null;

/** NumberLiteral is a float literal. `duration` is true when it was written as a duration (`5m`). */
export interface NumberLiteral {
  readonly kind: 'NumberLiteral';
  readonly val: number;
  readonly duration: boolean;
  readonly posRange: PositionRange;
}

/** StringLiteral is a string literal with escapes already resolved. */
export interface StringLiteral {
  readonly kind: 'StringLiteral';
  readonly val: string;
  readonly posRange: PositionRange;
}

/**
 * DurationOp is the operator of a duration expression: an arithmetic operator (`-`/`+` with a null
 * lhs are unary), or one of the duration functions `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)`.
 */
export type DurationOp = '+' | '-' | '*' | '/' | '%' | '^' | 'step' | 'range' | 'min_of' | 'max_of';

/**
 * DurationExpr is an arithmetic expression used where a duration is expected (range, subquery
 * range/step, offset), e.g. `[5m+1m]` or `offset (1h*2)`. Its operands are NumberLiterals (in
 * seconds, as PromQL numbers) or nested DurationExprs. `step` and `range` have no operands. When a
 * duration expression contains no `step()`/`range()`, the parser evaluates it and also stores the
 * result in the owning node's numeric field; otherwise the numeric field is 0 and the engine must
 * evaluate the expression per query (see evalDurationExpr).
 */
export interface DurationExpr {
  readonly kind: 'DurationExpr';
  readonly op: DurationOp;
  readonly lhs: Expr | null;
  readonly rhs: Expr | null;
  /** wrapped is true when the expression was written inside parentheses. */
  readonly wrapped: boolean;
  readonly posRange: PositionRange;
}

/**
 * VectorSelector selects an instant vector. `matchers` include the `__name__` matcher when a name
 * is given (appended last, as Prometheus does). Times are milliseconds.
 */
export interface VectorSelector {
  readonly kind: 'VectorSelector';
  /** name is the metric name given before `{` or as a bare quoted name, '' if none. */
  readonly name: string;
  readonly matchers: readonly Matcher[];
  /** offset is the `offset` modifier in ms (Prometheus OriginalOffset); 0 when absent. */
  readonly offset: number;
  /** offsetExpr is the offset as written when it was a duration expression, else null. */
  readonly offsetExpr: DurationExpr | null;
  /** timestamp is the `@` modifier in ms, or null. */
  readonly timestamp: number | null;
  readonly startOrEnd: StartOrEnd;
  /** anchored is set by the experimental `anchored` range modifier (`x[5m] anchored`). */
  readonly anchored: boolean;
  /** smoothed is set by the experimental `smoothed` range modifier. */
  readonly smoothed: boolean;
  /**
   * bypassEmptyMatcherCheck is true for the second argument of `info()`, which need not contain a
   * matcher that rejects the empty string.
   */
  readonly bypassEmptyMatcherCheck: boolean;
  readonly posRange: PositionRange;
}

/** MatrixSelector selects a range vector: a VectorSelector with a range in ms. */
export interface MatrixSelector {
  readonly kind: 'MatrixSelector';
  readonly vectorSelector: VectorSelector;
  /** range is the range in ms; 0 when rangeExpr needs evaluation at query time. */
  readonly range: number;
  readonly rangeExpr: DurationExpr | null;
  readonly posRange: PositionRange;
}

/** SubqueryExpr is `expr[range:step]` with its own offset and `@` modifiers. Times in ms. */
export interface SubqueryExpr {
  readonly kind: 'SubqueryExpr';
  readonly expr: Expr;
  readonly range: number;
  readonly rangeExpr: DurationExpr | null;
  /** step is the resolution in ms; 0 means the engine's default evaluation interval. */
  readonly step: number;
  readonly stepExpr: DurationExpr | null;
  /** offset is the `offset` modifier in ms (Prometheus OriginalOffset). */
  readonly offset: number;
  readonly offsetExpr: DurationExpr | null;
  readonly timestamp: number | null;
  readonly startOrEnd: StartOrEnd;
  readonly posRange: PositionRange;
}

/** AggregateExpr is an aggregation such as `sum by (job) (x)` or `topk(3, x)`. */
export interface AggregateExpr {
  readonly kind: 'AggregateExpr';
  readonly op: AggregateOp;
  readonly expr: Expr;
  /** param is the parameter of topk, bottomk, quantile, count_values, limitk, limit_ratio; else null. */
  readonly param: Expr | null;
  readonly grouping: readonly string[];
  readonly without: boolean;
  readonly posRange: PositionRange;
}

/** BinaryExpr is a binary operation. `matching` is non-null only when both sides are instant vectors. */
export interface BinaryExpr {
  readonly kind: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly matching: VectorMatching | null;
  /** returnBool is true for comparisons with the `bool` modifier. */
  readonly returnBool: boolean;
  readonly posRange: PositionRange;
}

/** Call is a function call; the argument count and types have been checked against func. */
export interface Call {
  readonly kind: 'Call';
  readonly func: FunctionDef;
  readonly args: readonly Expr[];
  readonly posRange: PositionRange;
}

/** ParenExpr is a parenthesised expression. */
export interface ParenExpr {
  readonly kind: 'ParenExpr';
  readonly expr: Expr;
  readonly posRange: PositionRange;
}

/** UnaryExpr is `-expr` or `+expr` (only on scalars and instant vectors). */
export interface UnaryExpr {
  readonly kind: 'UnaryExpr';
  readonly op: UnaryOp;
  readonly expr: Expr;
  readonly posRange: PositionRange;
}

/**
 * StepInvariantExpr marks an expression whose result is the same at every step of a range query. The
 * parser never produces it; the engine may wrap nodes in it. Its posRange is its expr's.
 */
export interface StepInvariantExpr {
  readonly kind: 'StepInvariantExpr';
  readonly expr: Expr;
  readonly posRange: PositionRange;
}

/** Expr is any PromQL expression node, discriminated by `kind`. Nodes are immutable (frozen). */
export type Expr =
  | AggregateExpr
  | BinaryExpr
  | Call
  | DurationExpr
  | MatrixSelector
  | NumberLiteral
  | ParenExpr
  | StringLiteral
  | StepInvariantExpr
  | SubqueryExpr
  | UnaryExpr
  | VectorSelector;

/** ExprKind is the `kind` discriminant of every Expr node. */
export type ExprKind = Expr['kind'];

/**
 * exprType returns the type an expression evaluates to, as Prometheus's Expr.Type(): binary
 * expressions are scalar only when both sides are, durations are scalars.
 */
export function exprType(e: Expr): ValueType {
  const direct = ownType(e);
  if (direct !== undefined) return direct;
  const cached = typeCache.get(e);
  if (cached !== undefined) return cached;
  // Parens, unary and binary expressions take their type from their operands: resolve them
  // bottom-up with an explicit stack (chains may be thousands of levels deep), caching each.
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const n = stack[stack.length - 1]!;
    if (typeCache.has(n)) {
      stack.pop();
      continue;
    }
    const ops = n.kind === 'BinaryExpr' ? [n.lhs, n.rhs] : n.kind === 'ParenExpr' || n.kind === 'UnaryExpr' || n.kind === 'StepInvariantExpr' ? [n.expr] : [];
    let ready = true;
    for (const o of ops) {
      if (ownType(o) === undefined && !typeCache.has(o)) {
        stack.push(o);
        ready = false;
      }
    }
    if (!ready) continue;
    stack.pop();
    const typeOf = (o: Expr): ValueType => ownType(o) ?? typeCache.get(o)!;
    typeCache.set(n, n.kind === 'BinaryExpr' ? (typeOf(n.lhs) === 'scalar' && typeOf(n.rhs) === 'scalar' ? 'scalar' : 'vector') : typeOf(ops[0]!));
  }
  return typeCache.get(e)!;
}

const typeCache = new WeakMap<Expr, ValueType>();

/** ownType is the type of a node that does not depend on its operands, else undefined. */
function ownType(e: Expr): ValueType | undefined {
  switch (e.kind) {
    case 'AggregateExpr':
    case 'VectorSelector':
      return 'vector';
    case 'Call':
      return e.func.returnType;
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'NumberLiteral':
    case 'DurationExpr':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    default:
      return undefined;
  }
}

