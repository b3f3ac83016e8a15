import { CounterResetHint, FloatHistogram } from '../../histogram/index.js';
import { Labels, MetricName, type Label } from '../../labels/index.js';
import { addHistograms } from '../engine/histogram-ops.js';
import { staleNaN } from '../engine/stale.js';

/** SequenceValue is one position of a series description: a float, a histogram, or omitted. */
export interface SequenceValue {
  value: number;
  omitted: boolean;
  histogram: FloatHistogram | undefined;
  counterResetHintSet: boolean;
}

/** SeriesDesc is a parsed `<series selector> <values>` line. */
export interface SeriesDesc {
  labels: Labels;
  values: SequenceValue[];
}

/** SeriesDescError reports a malformed series description line. */
export class SeriesDescError extends SyntaxError {
  override name = 'SeriesDescError';
}

const identStart = /[A-Za-z_:]/;
const identChar = /[A-Za-z0-9_:]/;

/** Cursor is a tiny scanner over one line. */
class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t')) this.i++;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }
  eof(): boolean {
    return this.i >= this.s.length;
  }
  fail(msg: string): never {
    throw new SeriesDescError(`${msg} at column ${this.i + 1} of ${JSON.stringify(this.s)}`);
  }
  ident(): string {
    const start = this.i;
    if (!identStart.test(this.peek())) this.fail('expected identifier');
    while (this.i < this.s.length && identChar.test(this.s[this.i]!)) this.i++;
    return this.s.slice(start, this.i);
  }
  string(): string {
    const q = this.peek();
    if (q !== '"' && q !== "'" && q !== '`') this.fail('expected string');
    this.i++;
    if (q === '`') {
      const end = this.s.indexOf('`', this.i);
      if (end < 0) this.fail('unterminated raw string');
      const v = this.s.slice(this.i, end);
      this.i = end + 1;
      return v;
    }
    let out = '';
    const bytes: number[] = [];
    const flush = (): void => {
      if (bytes.length > 0) {
        out += new TextDecoder().decode(new Uint8Array(bytes));
        bytes.length = 0;
      }
    };
    for (;;) {
      if (this.eof()) this.fail('unterminated string');
      const c = this.s[this.i++]!;
      if (c === q) break;
      if (c !== '\\') {
        flush();
        out += c;
        continue;
      }
      const e = this.s[this.i++] ?? '';
      switch (e) {
        case 'n': flush(); out += '\n'; break;
        case 't': flush(); out += '\t'; break;
        case 'r': flush(); out += '\r'; break;
        case 'a': flush(); out += '\x07'; break;
        case 'b': flush(); out += '\b'; break;
        case 'f': flush(); out += '\f'; break;
        case 'v': flush(); out += '\v'; break;
        case '\\': flush(); out += '\\'; break;
        case '"': flush(); out += '"'; break;
        case "'": flush(); out += "'"; break;
        case 'x':
          bytes.push(parseInt(this.s.slice(this.i, this.i + 2), 16));
          this.i += 2;
          break;
        case 'u':
          flush();
          out += String.fromCodePoint(parseInt(this.s.slice(this.i, this.i + 4), 16));
          this.i += 4;
          break;
        case 'U':
          flush();
          out += String.fromCodePoint(parseInt(this.s.slice(this.i, this.i + 8), 16));
          this.i += 8;
          break;
        default:
          if (e >= '0' && e <= '7') {
            bytes.push(parseInt(this.s.slice(this.i - 1, this.i + 2), 8));
            this.i += 2;
          } else this.fail(`unknown escape \\${e}`);
      }
    }
    flush();
    return out;
  }
}

/** parseLabelSet parses `name{...}`, `{...}` or `name` at the cursor. */
function parseLabelSet(c: Cursor): Labels {
  const pairs: Label[] = [];
  c.ws();
  if (c.peek() !== '{') pairs.push({ name: MetricName, value: c.ident() });
  if (c.peek() === '{') {
    c.i++;
    for (;;) {
      c.ws();
      if (c.peek() === '}') {
        c.i++;
        break;
      }
      let name: string;
      const quoted = c.peek() === '"' || c.peek() === "'" || c.peek() === '`';
      name = quoted ? c.string() : c.ident();
      c.ws();
      if (c.peek() === '=') {
        c.i++;
        c.ws();
        pairs.push({ name, value: c.string() });
      } else if (quoted) {
        pairs.push({ name: MetricName, value: name });
      } else c.fail('expected "="');
      c.ws();
      if (c.peek() === ',') c.i++;
      else if (c.peek() !== '}') c.fail('expected "," or "}"');
    }
  }
  return Labels.fromPairs(pairs);
}

// Hex is not accepted in value sequences: `0x10` means 0 repeated (x is the repeat operator).
const numRe = /^[+-]?(?:inf(?:inity)?|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)/i;

/** parseNumberPrefix parses a PromQL number at the start of s; returns [value, length] or undefined. */
function parseNumberPrefix(s: string): [number, number] | undefined {
  const m = numRe.exec(s);
  if (m === null) return undefined;
  return [parseNumberLiteral(m[0]), m[0].length];
}

/** parseNumberLiteral parses a float the way Go's ParseFloat/ParseInt(…, 0) accept it. */
export function parseNumberLiteral(s: string): number {
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '').toLowerCase();
  let v: number;
  if (body === 'inf' || body === 'infinity') v = Infinity;
  else if (body === 'nan') v = NaN;
  else if (body.startsWith('0x')) v = parseInt(body.slice(2), 16);
  else v = Number(body);
  if (Number.isNaN(v) && body !== 'nan') throw new SeriesDescError(`invalid number ${JSON.stringify(s)}`);
  return neg ? -v : v;
}

/** parseNumber parses a whole line as a number (for scalar expectations); undefined if it is not one. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (/^[+-]?0x[0-9a-f]+$/i.test(t)) return parseNumberLiteral(t);
  const p = parseNumberPrefix(t);
  if (p === undefined || p[1] !== t.length) return undefined;
  return p[0];
}

function val(v: number): SequenceValue {
  return { value: v, omitted: false, histogram: undefined, counterResetHintSet: false };
}

function omitted(): SequenceValue {
  return { value: 0, omitted: true, histogram: undefined, counterResetHintSet: false };
}

/** splitValueTokens splits the values part on whitespace, keeping `{{...}}` groups whole. */
function splitValueTokens(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= s.length) break;
    let j = i;
    while (j < s.length && s[j] !== ' ' && s[j] !== '\t') {
      if (s.startsWith('{{', j)) {
        const end = s.indexOf('}}', j);
        if (end < 0) throw new SeriesDescError(`unterminated histogram in ${JSON.stringify(s)}`);
        j = end + 2;
      } else j++;
    }
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

/** parseHistogramDesc parses the inside of `{{...}}`. */
export function parseHistogramDesc(body: string): { h: FloatHistogram; hintSet: boolean } {
  const h = new FloatHistogram();
  let hintSet = false;
  const re = /([a-z_]+):\s*(\[[^\]]*\]|\S+)/g;
  let offset = 0;
  let nOffset = 0;
  let buckets: number[] = [];
  let nBuckets: number[] = [];
  for (const m of body.matchAll(re)) {
    const key = m[1]!;
    const raw = m[2]!;
    const list = (): number[] =>
      raw
        .slice(1, -1)
        .trim()
        .split(/\s+/)
        .filter((x) => x !== '')
        .map(parseNumberLiteral);
    switch (key) {
      case 'schema': h.schema = parseNumberLiteral(raw); break;
      case 'sum': h.sum = parseNumberLiteral(raw); break;
      case 'count': h.count = parseNumberLiteral(raw); break;
      case 'z_bucket': h.zeroCount = parseNumberLiteral(raw); break;
      case 'z_bucket_w': h.zeroThreshold = parseNumberLiteral(raw); break;
      case 'buckets': buckets = list(); break;
      case 'n_buckets': nBuckets = list(); break;
      case 'offset': offset = parseNumberLiteral(raw); break;
      case 'n_offset': nOffset = parseNumberLiteral(raw); break;
      case 'custom_values': h.customValues = list(); break;
      case 'counter_reset_hint': {
        hintSet = true;
        const hints: Record<string, CounterResetHint> = {
          unknown: CounterResetHint.Unknown,
          reset: CounterResetHint.CounterReset,
          not_reset: CounterResetHint.NotCounterReset,
          gauge: CounterResetHint.Gauge,
        };
        const v = hints[raw];
        if (v === undefined) throw new SeriesDescError(`invalid counter_reset_hint ${raw}`);
        h.counterResetHint = v;
        break;
      }
      default:
        throw new SeriesDescError(`unknown histogram field ${key}`);
    }
  }
  if (buckets.length > 0) {
    h.positiveBuckets = buckets;
    h.positiveSpans = [{ offset, length: buckets.length }];
  }
  if (nBuckets.length > 0) {
    h.negativeBuckets = nBuckets;
    h.negativeSpans = [{ offset: nOffset, length: nBuckets.length }];
  }
  return { h, hintSet };
}

function parseHistToken(tok: string): { h: FloatHistogram; hintSet: boolean; rest: string } {
  if (!tok.startsWith('{{')) throw new SeriesDescError(`expected histogram in ${JSON.stringify(tok)}`);
  const end = tok.indexOf('}}');
  const r = parseHistogramDesc(tok.slice(2, end));
  return { ...r, rest: tok.slice(end + 2) };
}

function parseValueToken(tok: string, out: SequenceValue[]): void {
  if (tok === '_') {
    out.push(omitted());
    return;
  }
  let m = /^_x(\d+)$/.exec(tok);
  if (m !== null) {
    for (let i = 0; i < Number(m[1]); i++) out.push(omitted());
    return;
  }
  m = /^stale(?:x(\d+))?$/.exec(tok);
  if (m !== null) {
    const n = m[1] === undefined ? 1 : Number(m[1]) + 1;
    for (let i = 0; i < n; i++) out.push(val(staleNaN));
    return;
  }
  if (tok.startsWith('{{')) {
    const a = parseHistToken(tok);
    if (a.rest === '') {
      out.push({ value: 0, omitted: false, histogram: a.h, counterResetHintSet: a.hintSet });
      return;
    }
    const rep = /^x(\d+)$/.exec(a.rest);
    if (rep !== null) {
      for (let i = 0; i <= Number(rep[1]); i++) out.push({ value: 0, omitted: false, histogram: a.h.copy(), counterResetHintSet: a.hintSet });
      return;
    }
    const sign = a.rest[0];
    if (sign !== '+' && sign !== '-') throw new SeriesDescError(`invalid histogram sequence ${JSON.stringify(tok)}`);
    const b = parseHistToken(a.rest.slice(1));
    const rep2 = /^x(\d+)$/.exec(b.rest);
    if (rep2 === null) throw new SeriesDescError(`invalid histogram sequence ${JSON.stringify(tok)}`);
    let cur = a.h;
    for (let i = 0; i <= Number(rep2[1]); i++) {
      out.push({ value: 0, omitted: false, histogram: cur, counterResetHintSet: a.hintSet });
      cur = addHistograms(cur, b.h, sign === '-');
    }
    return;
  }
  const first = parseNumberPrefix(tok);
  if (first === undefined) throw new SeriesDescError(`invalid value ${JSON.stringify(tok)}`);
  let rest = tok.slice(first[1]);
  if (rest === '') {
    out.push(val(first[0]));
    return;
  }
  let inc = 0;
  if (rest[0] === '+' || rest[0] === '-') {
    const second = parseNumberPrefix(rest);
    if (second === undefined) throw new SeriesDescError(`invalid value ${JSON.stringify(tok)}`);
    inc = second[0];
    rest = rest.slice(second[1]);
  }
  const rep = /^x(\d+)$/.exec(rest);
  if (rep === null) throw new SeriesDescError(`invalid value ${JSON.stringify(tok)}`);
  let v = first[0];
  for (let i = 0; i <= Number(rep[1]); i++) {
    out.push(val(v));
    v += inc;
  }
}

/** parseSeriesDesc parses `metric{labels} values...` as promqltest's load and expectation lines. */
export function parseSeriesDesc(line: string): SeriesDesc {
  const c = new Cursor(line);
  const labels = parseLabelSet(c);
  const values: SequenceValue[] = [];
  for (const tok of splitValueTokens(line.slice(c.i))) parseValueToken(tok, values);
  return { labels, values };
}
