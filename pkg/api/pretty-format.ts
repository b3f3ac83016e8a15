import { format, type Expr, type NumberLiteral } from '../promql/index.js';

const maxCharactersPerLine = 100;

function indent(level: number): string {
  return '  '.repeat(level);
}

/** The sub-expressions a node prints verbatim inside its single-line form, in order. */
function children(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'AggregateExpr':
      return e.param === null ? [e.expr] : [e.param, e.expr];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
    case 'Call':
      return e.args;
    case 'ParenExpr':
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return [e.expr];
    default:
      return [];
  }
}

/** A one-byte placeholder child: a node printed with it gives the node's own text around its children. */
const ZERO: NumberLiteral = { kind: 'NumberLiteral', val: 0, duration: false, posRange: { start: 0, end: 0 } };

/** e with every child replaced by ZERO (children() order), or e itself for a leaf. */
function shell(e: Expr): Expr {
  switch (e.kind) {
    case 'AggregateExpr':
      return { ...e, param: e.param === null ? null : ZERO, expr: ZERO };
    case 'BinaryExpr':
      return { ...e, lhs: ZERO, rhs: ZERO };
    case 'Call':
      return { ...e, args: e.args.map(() => ZERO) };
    case 'ParenExpr':
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return { ...e, expr: ZERO };
    default:
      return e;
  }
}

/**
 * singleLineBytes gives the UTF-8 length of every node's single-line form, bottom-up without
 * recursion: a node's form is its own text (the printer's output for its shell) with its children's
 * forms in place of the placeholders, so each node is printed once, in time proportional to its own
 * text, however deep the expression is.
 */
function singleLineBytes(root: Expr, print: (e: Expr) => string): Map<Expr, number> {
  const bytes = new Map<Expr, number>();
  const stack: { e: Expr; expanded: boolean }[] = [{ e: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const kids = children(top.e);
    if (!top.expanded && kids.length > 0) {
      top.expanded = true;
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ e: kids[i]!, expanded: false });
      continue;
    }
    stack.pop();
    let n = Buffer.byteLength(print(shell(top.e)), 'utf8') - kids.length;
    for (const k of kids) n += bytes.get(k)!;
    bytes.set(top.e, n);
  }
  return bytes;
}

/**
 * prettyFormat prints a parsed expression as Prometheus's /api/v1/format_query does
 * (parser.Prettify): a node whose single-line form fits in 100 bytes stays on one line; longer
 * aggregations, calls, parentheses and binary expressions are split with their children indented
 * two spaces per level. The single-line pieces come from the parser's printer (`print`, default
 * `format`): lengths are computed once per node and only the lines that fit are printed, so the
 * printer's work is linear in the size of the expression (the indentation of deep expressions is
 * not: it is Prometheus's output).
 */
export function prettyFormat(e: Expr, level = 0, print: (e: Expr) => string = format): string {
  const bytes = singleLineBytes(e, print);
  const long = (n: Expr): boolean => bytes.get(n)! > maxCharactersPerLine;
  // Depth-first with an explicit stack (expressions may be thousands of levels deep): an item is
  // text to output or a node to print at a level; `lead: false` prints the node's first line
  // without indentation (Prometheus trims the operand of a unary operator).
  type Item = string | { readonly e: Expr; readonly level: number; readonly lead: boolean };
  const out: string[] = [];
  const stack: Item[] = [{ e, level, lead: true }];
  const then = (...items: Item[]): void => {
    for (let i = items.length - 1; i >= 0; i--) stack.push(items[i]!);
  };
  while (stack.length > 0) {
    const it = stack.pop()!;
    if (typeof it === 'string') {
      out.push(it);
      continue;
    }
    const { e: n, level: l, lead } = it;
    const ind = lead ? indent(l) : '';
    switch (n.kind) {
      case 'AggregateExpr': {
        if (!long(n)) {
          out.push(ind + print(n));
          break;
        }
        const own = print(shell(n)); // op, grouping, `(0)` or `(0, 0)`
        const opStr = own.slice(0, own.length - (n.param === null ? 3 : 6));
        const body: Item[] = n.param === null ? [] : [{ e: n.param, level: l + 1, lead: true }, ',\n'];
        then(`${ind}${opStr}(\n`, ...body, { e: n.expr, level: l + 1, lead: true }, `\n${indent(l)})`);
        break;
      }
      case 'BinaryExpr': {
        if (!long(n)) {
          out.push(ind + print(n));
          break;
        }
        const own = print(shell(n)); // `0 <op, bool, matching> 0`
        // The left operand starts the output, one level deeper.
        then({ e: n.lhs, level: l + 1, lead }, `\n${indent(l)}${own.slice(2, own.length - 2)}\n`, { e: n.rhs, level: l + 1, lead: true });
        break;
      }
      case 'Call': {
        if (!long(n)) {
          out.push(ind + print(n));
          break;
        }
        const args: Item[] = [];
        n.args.forEach((a, i) => args.push(...(i > 0 ? [',\n'] : []), { e: a, level: l + 1, lead: true }));
        then(`${ind}${n.func.name}(\n`, ...args, `\n${indent(l)})`);
        break;
      }
      case 'ParenExpr':
        if (!long(n)) out.push(ind + print(n));
        else then(`${ind}(\n`, { e: n.expr, level: l + 1, lead: true }, `\n${indent(l)})`);
        break;
      case 'SubqueryExpr':
        if (!long(n)) out.push(print(n));
        else then({ e: n.expr, level: l, lead }, print(shell(n)).slice(1));
        break;
      case 'StepInvariantExpr':
        then({ e: n.expr, level: l, lead });
        break;
      case 'UnaryExpr':
        then(ind + n.op, { e: n.expr, level: l, lead: false });
        break;
      default:
        out.push(ind + print(n));
    }
  }
  return out.join('');
}
