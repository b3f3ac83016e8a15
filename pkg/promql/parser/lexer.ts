/**
 * The PromQL lexer: turns a query into tokens the way Prometheus's lexer (promql/parser/lex.go) does,
 * including its error texts, so that parse errors match upstream. Positions are UTF-16 indexes into
 * the query; the parser converts them to Prometheus's byte offsets.
 */

/** TokenType names every token kind. Keyword tokens are spelled as their (lower-case) keyword. */
export type TokenType =
  | 'EOF'
  | 'ERROR'
  | 'IDENTIFIER'
  | 'METRIC_IDENTIFIER'
  | 'NUMBER'
  | 'DURATION'
  | 'STRING'
  | '('
  | ')'
  | '{'
  | '}'
  | '['
  | ']'
  | ','
  | ':'
  | '::'
  | '='
  | '=~'
  | '!~'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '^'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '</'
  | '>/'
  | '@'
  | KeywordType;

/** KeywordType are the words the lexer turns into their own tokens (outside braces). */
export type KeywordType =
  | 'and'
  | 'or'
  | 'unless'
  | 'atan2'
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
  | 'limit_ratio'
  | 'offset'
  | 'smoothed'
  | 'anchored'
  | 'by'
  | 'without'
  | 'on'
  | 'ignoring'
  | 'group_left'
  | 'group_right'
  | 'fill'
  | 'fill_left'
  | 'fill_right'
  | 'bool'
  | 'start'
  | 'end'
  | 'step'
  | 'range'
  | 'min_of'
  | 'max_of';

/** Token is one lexed item: its type, raw text and [pos, end) range in the query. */
export interface Token {
  readonly type: TokenType;
  /** val is the raw text, or the error message for ERROR tokens. */
  readonly val: string;
  readonly pos: number;
  readonly end: number;
}

const KEYWORDS: ReadonlyMap<string, KeywordType> = new Map(
  (
    [
      'and', 'or', 'unless', 'atan2', 'sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk',
      'bottomk', 'count_values', 'quantile', 'limitk', 'limit_ratio', 'offset', 'smoothed', 'anchored', 'by',
      'without', 'on', 'ignoring', 'group_left', 'group_right', 'fill', 'fill_left', 'fill_right', 'bool', 'start',
      'end', 'step', 'range',
    ] as const
  ).map((k) => [k, k]),
);

/** AGGREGATORS are the aggregation keywords. */
export const AGGREGATORS: ReadonlySet<string> = new Set([
  'sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'count_values', 'quantile',
  'limitk', 'limit_ratio',
]);
/** OPERATOR_TOKENS are the tokens Prometheus describes as `<op:...>`. */
const OPERATOR_TOKENS: ReadonlySet<string> = new Set([
  '+', '-', '*', '/', '%', '^', '==', '!=', '<', '<=', '>', '>=', '</', '>/', '=~', '!~', '@', 'and', 'or', 'unless', 'atan2',
]);
/** KEYWORD_TOKENS are the tokens Prometheus describes as `<...>`. */
const KEYWORD_TOKENS: ReadonlySet<string> = new Set([
  'bool', 'by', 'group_left', 'group_right', 'ignoring', 'offset', 'on', 'without', 'smoothed', 'anchored', 'fill',
  'fill_left', 'fill_right',
]);
const PUNCT: ReadonlySet<string> = new Set(['(', ')', '{', '}', '[', ']', ',', '=', ':', '::']);

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlpha = (c: string): boolean => c === '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlnum = (c: string): boolean => isAlpha(c) || isDigit(c);

/** quoteRune formats a code point like Go's %q verb on a rune. */
export function quoteRune(r: string): string {
  if (r === '') return "'\uFFFD'";
  switch (r) {
    case "'":
      return "'\\''";
    case '\\':
      return "'\\\\'";
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case '\t':
      return "'\\t'";
    case '\x07':
      return "'\\a'";
    case '\b':
      return "'\\b'";
    case '\f':
      return "'\\f'";
    case '\v':
      return "'\\v'";
  }
  const cp = r.codePointAt(0)!;
  if (cp < 0x20 || cp === 0x7f) return `'\\x${cp.toString(16).padStart(2, '0')}'`;
  if (cp >= 0x80 && cp < 0xa0) return `'\\u${cp.toString(16).padStart(4, '0')}'`;
  return `'${r}'`;
}

/** goUnicodeFormat formats a code point like Go's %#U verb (`U+0041 'A'`). */
function goUnicode(r: string): string {
  const cp = r === '' ? -1 : r.codePointAt(0)!;
  if (cp < 0) return 'U+FFFFFFFFFFFFFFFF';
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) return hex;
  return `${hex} '${r}'`;
}

/** goQuoteTruncated formats a string like Go's `%.10q` (quote the first 10 runes). */
function goQuoteShort(s: string, quote: (s: string) => string): string {
  const runes = [...s];
  return runes.length > 10 ? `${quote(runes.slice(0, 10).join(''))}...` : quote(s);
}

/**
 * describeToken describes a token like Prometheus's Item.desc(), used in "unexpected ..." errors:
 * `<op:+>`, `<aggr:sum>`, `<by>`, `"("`, `identifier "foo"`, `number "1"`, `end of input`.
 */
export function describeToken(t: Token, quote: (s: string) => string): string {
  const ty = t.type;
  if (ty === 'EOF') return 'end of input';
  if (ty === 'ERROR') return t.val;
  if (OPERATOR_TOKENS.has(ty)) return `<op:${t.val}>`;
  if (AGGREGATORS.has(ty)) return `<aggr:${t.val}>`;
  if (KEYWORD_TOKENS.has(ty)) return `<${t.val}>`;
  if (PUNCT.has(ty) || ty === 'start' || ty === 'end' || ty === 'step' || ty === 'range') return goQuoteShort(t.val, quote);
  switch (ty) {
    case 'IDENTIFIER':
      return `identifier ${quote(t.val)}`;
    case 'METRIC_IDENTIFIER':
      return `metric identifier ${quote(t.val)}`;
    case 'STRING':
      return `string ${goQuoteShort(t.val, quote)}`;
    case 'NUMBER':
      return `number ${goQuoteShort(t.val, quote)}`;
    case 'DURATION':
      return `duration ${goQuoteShort(t.val, quote)}`;
    default:
      // min_of / max_of: identifiers in Prometheus.
      return `identifier ${quote(t.val)}`;
  }
}

/**
 * lex tokenizes a whole query. Comments are dropped. The result always ends with an EOF or an
 * ERROR token (whose val is the Prometheus error text; its range runs to the end of the input).
 */
export function lex(input: string): Token[] {
  return new Lexer(input).run();
}

class Lexer {
  readonly #in: string;
  #pos = 0;
  #start = 0;
  #parenDepth = 0;
  #braceOpen = false;
  #bracketOpen = false;
  #gotColon = false;
  #gotDuration = false;
  readonly #out: Token[] = [];
  #done = false;

  constructor(input: string) {
    this.#in = input;
  }

  run(): Token[] {
    while (!this.#done) {
      if (this.#braceOpen) this.#insideBraces();
      else if (this.#bracketOpen) this.#durationExpr();
      else this.#statements();
    }
    return this.#out;
  }

  #next(): string {
    if (this.#pos >= this.#in.length) {
      this.#pos++; // so that backup() is symmetric at EOF
      return '';
    }
    const cp = this.#in.codePointAt(this.#pos)!;
    const ch = String.fromCodePoint(cp);
    this.#pos += ch.length;
    return ch;
  }

  #backup(ch: string): void {
    this.#pos -= ch === '' ? 1 : ch.length;
  }

  #peek(): string {
    const c = this.#next();
    this.#backup(c);
    return c;
  }

  #emit(type: TokenType): void {
    this.#out.push({ type, val: this.#in.slice(this.#start, this.#pos), pos: this.#start, end: this.#pos });
    this.#start = this.#pos;
    if (type === 'EOF') this.#done = true;
  }

  #error(msg: string): void {
    this.#out.push({ type: 'ERROR', val: msg, pos: this.#start, end: this.#in.length });
    this.#done = true;
  }

  /** Like Prometheus's emit-then-errorf in one step: the error replaces the token just emitted. */
  #errorAfterEmit(msg: string): void {
    this.#out.pop();
    this.#error(msg);
  }

  #accept(valid: string): boolean {
    const c = this.#next();
    if (c !== '' && valid.includes(c)) return true;
    this.#backup(c);
    return false;
  }

  #is(valid: string): boolean {
    const c = this.#peek();
    return c !== '' && valid.includes(c);
  }

  #skipSpaces(): void {
    while (isSpace(this.#peek())) this.#next();
    this.#start = this.#pos;
  }

  #lineComment(): void {
    while (this.#pos < this.#in.length && this.#in[this.#pos] !== '\n' && this.#in[this.#pos] !== '\r') this.#pos++;
    this.#start = this.#pos; // comments are skipped
  }

  #statements(): void {
    if (this.#in.startsWith('#', this.#pos)) {
      this.#lineComment();
      return;
    }
    const r = this.#next();
    switch (r) {
      case '':
        if (this.#parenDepth !== 0) {
          this.#backup(r);
          this.#error('unclosed left parenthesis');
        } else {
          this.#backup(r);
          this.#emit('EOF');
        }
        return;
      case ',':
      case '*':
      case '/':
      case '%':
      case '+':
      case '-':
      case '^':
      case '@':
        this.#emit(r);
        return;
      case '=': {
        const t = this.#peek();
        if (t === '=') {
          this.#next();
          this.#emit('==');
        } else if (t === '~') {
          this.#error(`unexpected character after '=': ${quoteRune(t)}`);
        } else this.#emit('=');
        return;
      }
      case '!': {
        const t = this.#next();
        if (t !== '=') this.#error(`unexpected character after '!': ${quoteRune(t)}`);
        else this.#emit('!=');
        return;
      }
      case '<':
      case '>': {
        const t = this.#peek();
        if (t === '=') {
          this.#next();
          this.#emit(r === '<' ? '<=' : '>=');
        } else if (t === '/') {
          this.#next();
          this.#emit(r === '<' ? '</' : '>/');
        } else this.#emit(r);
        return;
      }
      case '"':
      case "'":
        this.#string(r);
        return;
      case '`':
        this.#rawString();
        return;
      case '(':
        this.#emit('(');
        this.#parenDepth++;
        return;
      case ')':
        this.#emit(')');
        this.#parenDepth--;
        if (this.#parenDepth < 0) this.#errorAfterEmit(`unexpected right parenthesis ${quoteRune(r)}`);
        return;
      case '{':
        this.#emit('{');
        this.#braceOpen = true;
        return;
      case '[':
        this.#gotColon = false;
        this.#gotDuration = false;
        this.#emit('[');
        this.#skipSpaces();
        this.#bracketOpen = true;
        return;
      case ']':
        this.#error(`unexpected right bracket ${quoteRune(r)}`);
        return;
    }
    if (isSpace(r)) {
      this.#skipSpaces();
      return;
    }
    if (isDigit(r) || (r === '.' && isDigit(this.#peek()))) {
      this.#backup(r);
      this.#numberOrDuration();
      return;
    }
    if (isAlpha(r) || r === ':') {
      this.#backup(r);
      this.#keywordOrIdentifier();
      return;
    }
    this.#error(`unexpected character: ${quoteRune(r)}`);
  }

  #insideBraces(): void {
    if (this.#in.startsWith('#', this.#pos)) {
      this.#lineComment();
      return;
    }
    const r = this.#next();
    if (r === '') {
      this.#backup(r);
      this.#error('unexpected end of input inside braces');
      return;
    }
    if (isSpace(r)) {
      this.#skipSpaces();
      return;
    }
    if (isAlpha(r)) {
      while (isAlnum(this.#peek())) this.#next();
      this.#emit('IDENTIFIER');
      return;
    }
    switch (r) {
      case ',':
        this.#emit(',');
        return;
      case '"':
      case "'":
        this.#string(r);
        return;
      case '`':
        this.#rawString();
        return;
      case '=':
        if (this.#peek() === '~') {
          this.#next();
          this.#emit('=~');
        } else this.#emit('=');
        return;
      case '!': {
        const nr = this.#next();
        if (nr === '~') this.#emit('!~');
        else if (nr === '=') this.#emit('!=');
        else this.#error(`unexpected character after '!' inside braces: ${quoteRune(nr)}`);
        return;
      }
      case '{':
        this.#error(`unexpected left brace ${quoteRune(r)}`);
        return;
      case '}':
        this.#emit('}');
        this.#braceOpen = false;
        return;
    }
    this.#error(`unexpected character inside braces: ${quoteRune(r)}`);
  }

  #durationExpr(): void {
    const r = this.#next();
    switch (r) {
      case '':
        this.#backup(r);
        this.#error('unexpected end of input in duration expression');
        return;
      case ']':
        this.#emit(']');
        this.#bracketOpen = false;
        this.#gotColon = false;
        return;
      case ':':
        if (this.#peek() === ':') {
          this.#next();
          this.#emit('::');
        } else this.#emit(':');
        if (!this.#gotDuration) this.#errorAfterEmit('unexpected colon before duration in duration expression');
        else if (this.#gotColon) this.#errorAfterEmit('unexpected repeated colon in duration expression');
        this.#gotColon = true;
        return;
      case '(':
        this.#emit('(');
        this.#parenDepth++;
        return;
      case ')':
        this.#emit(')');
        this.#parenDepth--;
        if (this.#parenDepth < 0) this.#errorAfterEmit(`unexpected right parenthesis ${quoteRune(r)}`);
        return;
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case '^':
      case ',':
        this.#emit(r);
        return;
      case '[':
        this.#error(`unexpected left bracket ${quoteRune(r)}`);
        return;
    }
    if (isSpace(r)) {
      this.#skipSpaces();
      return;
    }
    if (isAlpha(r)) {
      while (isAlnum(this.#peek())) this.#next();
      const word = this.#in.slice(this.#start, this.#pos).toLowerCase();
      const kw = DURATION_KEYWORDS.get(word);
      if (kw === undefined) {
        this.#pos = this.#start + r.length;
        this.#error(`unexpected character in duration expression: ${quoteRune(r)}`);
        return;
      }
      this.#gotDuration = true;
      this.#emit(kw);
      return;
    }
    if (isDigit(r) || (r === '.' && isDigit(this.#peek()))) {
      this.#backup(r);
      this.#gotDuration = true;
      this.#numberOrDuration();
      return;
    }
    this.#error(`unexpected character in duration expression: ${quoteRune(r)}`);
  }

  #string(quote: string): void {
    for (;;) {
      const c = this.#next();
      if (c === '\\') {
        if (!this.#escape(quote)) return;
        continue;
      }
      if (c === '\uFFFD' || isLoneSurrogate(c)) {
        this.#error('invalid UTF-8 rune');
        return;
      }
      if (c === '' || c === '\n') {
        this.#error('unterminated quoted string');
        return;
      }
      if (c === quote) break;
    }
    this.#emit('STRING');
  }

  /** Scans an escape after `\`; false (with an error token emitted) if it is invalid. */
  #escape(quote: string): boolean {
    let ch = this.#next();
    let n: number;
    let base: number;
    let max: number;
    switch (ch) {
      case 'a':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
      case '\\':
      case quote:
        return true;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        n = 3;
        base = 8;
        max = 255;
        break;
      case 'x':
        ch = this.#next();
        n = 2;
        base = 16;
        max = 255;
        break;
      case 'u':
        ch = this.#next();
        n = 4;
        base = 16;
        max = 0x10ffff;
        break;
      case 'U':
        ch = this.#next();
        n = 8;
        base = 16;
        max = 0x10ffff;
        break;
      case '':
        this.#error('escape sequence not terminated');
        return false;
      default:
        this.#error(`unknown escape sequence ${goUnicode(ch)}`);
        return false;
    }
    let x = 0;
    while (n > 0) {
      const d = digitVal(ch);
      if (d >= base) {
        if (ch === '') this.#error('escape sequence not terminated');
        else this.#error(`illegal character ${goUnicode(ch)} in escape sequence`);
        return false;
      }
      x = x * base + d;
      n--;
      if (n > 0) ch = this.#next();
    }
    if (x > max || (x >= 0xd800 && x < 0xe000)) {
      this.#error('escape sequence is an invalid Unicode code point');
      return false;
    }
    return true;
  }

  #rawString(): void {
    for (;;) {
      const c = this.#next();
      if (c === '\uFFFD' || isLoneSurrogate(c)) {
        this.#error('invalid UTF-8 rune');
        return;
      }
      if (c === '') {
        this.#error('unterminated raw string');
        return;
      }
      if (c === '`') break;
    }
    this.#emit('STRING');
  }

  #numberOrDuration(): void {
    if (this.#scanNumber()) {
      this.#emit('NUMBER');
      return;
    }
    if (this.#acceptRemainingDuration()) {
      this.#backup(this.#lastRead);
      this.#emit('DURATION');
      return;
    }
    this.#error(`bad number or duration syntax: ${goQuoteLike(this.#in.slice(this.#start, Math.min(this.#pos, this.#in.length)))}`);
  }

  #lastRead = '';

  #acceptRemainingDuration(): boolean {
    if (!this.#accept('smhdwy')) return false;
    this.#accept('s');
    while (this.#accept('0123456789')) {
      while (this.#accept('0123456789'));
      if (!this.#accept('smhdw')) return false;
      this.#accept('s');
    }
    const c = this.#next();
    this.#lastRead = c;
    return !isAlnum(c);
  }

  #scanNumber(): boolean {
    const initial = this.#pos;
    let digits = '0123456789';
    if (this.#accept('0') && this.#accept('xX')) {
      this.#accept('_');
      digits = '0123456789abcdefABCDEF';
    }
    this.#accept('.');
    this.#accept(digits);
    let dot = false;
    let exp = false;
    while (this.#is(digits + '._eE')) {
      if (this.#is('.') && dot) {
        this.#accept('.');
        return false;
      }
      if (this.#is('eE') && exp) {
        this.#accept('eE');
        return false;
      }
      if (this.#accept('.')) {
        dot = true;
        if (this.#accept('_.')) return false;
        if (digits.length > 10) return false;
        continue;
      }
      if (this.#accept('eE')) {
        exp = true;
        this.#accept('+-');
        if (this.#accept('._eE') || this.#peek() === '') return false;
        continue;
      }
      if (this.#accept('_')) {
        if (this.#accept('._eE') || this.#peek() === '') return false;
        continue;
      }
      while (this.#accept(digits));
    }
    if (this.#pos === initial) return false;
    return !isAlnum(this.#peek());
  }

  #keywordOrIdentifier(): void {
    for (;;) {
      const r = this.#next();
      if (!(isAlnum(r) || r === ':')) {
        this.#backup(r);
        break;
      }
    }
    const word = this.#in.slice(this.#start, this.#pos);
    const lower = word.toLowerCase();
    if (lower === 'inf' || lower === 'nan') {
      this.#emit('NUMBER');
      return;
    }
    const kw = KEYWORDS.get(lower);
    if (kw !== undefined) {
      if ((kw === 'fill' || kw === 'fill_left' || kw === 'fill_right') && !this.#followedByParen()) {
        this.#emit('IDENTIFIER');
        return;
      }
      this.#emit(kw);
      return;
    }
    if ((lower === 'min_of' || lower === 'max_of') && this.#followedByParen()) {
      this.#emit(lower);
      return;
    }
    this.#emit(word.includes(':') ? 'METRIC_IDENTIFIER' : 'IDENTIFIER');
  }

  #followedByParen(): boolean {
    for (let p = this.#pos; p < this.#in.length; p++) {
      const c = this.#in[p]!;
      if (!isSpace(c)) return c === '(';
    }
    return false;
  }
}

const DURATION_KEYWORDS: ReadonlyMap<string, KeywordType> = new Map<string, KeywordType>([
  ['step', 'step'],
  ['range', 'range'],
  ['min', 'min_of'],
  ['max', 'max_of'],
  ['min_of', 'min_of'],
  ['max_of', 'max_of'],
]);

function isLoneSurrogate(c: string): boolean {
  if (c.length !== 1) return false;
  const code = c.charCodeAt(0);
  return code >= 0xd800 && code <= 0xdfff;
}

function digitVal(ch: string): number {
  if (ch >= '0' && ch <= '9') return ch.charCodeAt(0) - 48;
  if (ch >= 'a' && ch <= 'f') return ch.charCodeAt(0) - 87;
  if (ch >= 'A' && ch <= 'F') return ch.charCodeAt(0) - 55;
  return 16;
}

/** A plain double-quoted rendering for lexer messages on ASCII-ish numeric text. */
function goQuoteLike(s: string): string {
  return JSON.stringify(s);
}
