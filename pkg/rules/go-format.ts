/**
 * Go's float formatting (strconv.FormatFloat and fmt's verbs) from the exact decimal value of a
 * double: shortest digits, or rounded half-to-even at a digit position, as Go rounds.
 */
interface Decimal {
  /** significant digits without leading/trailing zeros ('' for zero). */
  d: string;
  /** decimal point position: value = 0.d × 10^dp. */
  dp: number;
}

function shortest(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const s = Math.abs(v).toExponential(); // shortest round-trip digits, like Go's shortest
  const [mant, exp] = s.split('e') as [string, string];
  const d = mant.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(exp) + 1 };
}

/** exact returns every digit of |v| (a double's decimal expansion is finite). */
function exact(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(v));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  let digits: string;
  let dp: number;
  if (e >= 0) {
    digits = (mant << BigInt(e)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e)).toString();
    dp = digits.length + e;
  }
  const trimmed = digits.replace(/0+$/, '');
  const lead = trimmed.length - trimmed.replace(/^0+/, '').length;
  return { d: trimmed.slice(lead), dp: dp - lead };
}

/** roundTo rounds x to n significant digits (n may be ≤ 0), half to even on the exact value. */
function roundTo(x: Decimal, n: number): Decimal {
  if (n < 0 || x.d.length <= n) return x;
  const up = (() => {
    const c = x.d.charCodeAt(n) - 48;
    if (c > 5) return true;
    if (c < 5) return false;
    if (x.d.length > n + 1) return true; // digits after the 5 are not all zero (trimmed)
    return n > 0 && (x.d.charCodeAt(n - 1) - 48) % 2 === 1;
  })();
  let d = x.d.slice(0, Math.max(n, 0));
  let dp = x.dp;
  if (up) {
    let i = d.length - 1;
    const arr = d.split('');
    while (i >= 0 && arr[i] === '9') {
      arr[i] = '0';
      i--;
    }
    if (i < 0) {
      arr.unshift('1');
      dp++;
    } else arr[i] = String.fromCharCode(arr[i]!.charCodeAt(0) + 1);
    d = arr.join('');
  }
  d = d.replace(/0+$/, '');
  if (d === '') dp = 0;
  return { d, dp };
}

function digitAt(x: Decimal, i: number): string {
  return i >= 0 && i < x.d.length ? x.d[i]! : '0';
}

function fmtE(neg: boolean, x: Decimal, prec: number, upper: boolean): string {
  let s = neg ? '-' : '';
  s += digitAt(x, 0);
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(x, i);
  }
  const exp = x.d === '' ? 0 : x.dp - 1;
  const ae = Math.abs(exp);
  return s + (upper ? 'E' : 'e') + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' : '') + String(ae);
}

function fmtF(neg: boolean, x: Decimal, prec: number): string {
  let s = neg ? '-' : '';
  if (x.dp > 0) {
    for (let i = 0; i < x.dp; i++) s += digitAt(x, i);
  } else s += '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) s += digitAt(x, x.dp + i);
  }
  return s;
}

/**
 * goFormatFloat is Go's strconv.FormatFloat(v, fmt, prec, 64) for fmt 'e', 'E', 'f', 'g', 'G'
 * (prec -1 = shortest). Infinities are `+Inf`/`-Inf`, NaN `NaN`.
 */
export function goFormatFloat(v: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const isShortest = prec < 0;
  let x: Decimal;
  if (isShortest) {
    x = shortest(v);
    if (fmt === 'e' || fmt === 'E') prec = Math.max(x.d.length - 1, 0);
    else if (fmt === 'f') prec = Math.max(x.d.length - x.dp, 0);
    else prec = x.d.length;
  } else {
    const e = exact(v);
    if (fmt === 'e' || fmt === 'E') x = roundTo(e, prec + 1);
    else if (fmt === 'f') x = roundTo(e, e.dp + prec);
    else x = roundTo(e, prec === 0 ? 1 : prec);
    if ((fmt === 'g' || fmt === 'G') && prec === 0) prec = 1;
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, x, prec, fmt === 'E');
  if (fmt === 'f') return fmtF(neg, x, prec);
  let eprec = prec;
  const nd = x.d.length;
  const dp = x.d === '' ? 1 : x.dp;
  if (eprec > nd && nd >= dp) eprec = nd;
  if (isShortest) eprec = 6;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd;
    return fmtE(neg, x, Math.max(prec - 1, 0), fmt === 'G');
  }
  if (prec > dp) prec = nd;
  return fmtF(neg, x, Math.max(prec - dp, 0));
}

function pad(s: string, width: number | undefined, minus: boolean, zero: boolean): string {
  if (width === undefined || s.length >= width) return s;
  if (minus) return s + ' '.repeat(width - s.length);
  if (zero) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    const body = sign === '' ? s : s.slice(1);
    return sign + '0'.repeat(width - s.length) + body;
  }
  return ' '.repeat(width - s.length) + s;
}

/** GoInt marks an integer value (Go `int`) where Go distinguishes it from float64. */
export class GoInt {
  constructor(readonly value: number) {}
}

/** goSprintValue prints a value as Go's %v does; strings as is, floats with %g shortest. */
export type GoPrintable = unknown;

/** FormatVerbArg formats one argument for printf; sprintV is the caller's %v printer. */
export function goSprintf(format: string, args: readonly unknown[], sprintV: (v: unknown) => string): string {
  let out = '';
  let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    i++;
    if (format[i] === '%') {
      out += '%';
      continue;
    }
    let minus = false;
    let plus = false;
    let zero = false;
    let space = false;
    let sharp = false;
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') minus = true;
      else if (f === '+') plus = true;
      else if (f === '0') zero = true;
      else if (f === ' ') space = true;
      else if (f === '#') sharp = true;
      else break;
    }
    let width: number | undefined;
    let prec: number | undefined;
    const num = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        return a instanceof GoInt ? a.value : typeof a === 'number' ? a : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (m === null) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    width = num();
    if (format[i] === '.') {
      i++;
      prec = num() ?? 0;
    }
    const verb = format[i];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++];
    const signed = (s: string, nonNeg: boolean): string => (nonNeg && plus ? '+' + s : nonNeg && space ? ' ' + s : s);
    let s: string;
    const isNum = typeof a === 'number';
    const isInt = a instanceof GoInt;
    switch (verb) {
      case 'v':
        s = isNum ? signed(goFormatFloat(a, 'g', -1), a >= 0) : isInt ? signed(String(a.value), a.value >= 0) : sprintV(a);
        break;
      case 'd':
        s = isInt ? signed(String(a.value), a.value >= 0) : badVerb(verb, a, sprintV);
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        if (isNum) {
          const f = verb === 'F' ? 'f' : verb;
          s = signed(goFormatFloat(a, f, prec ?? (f === 'g' || f === 'G' ? -1 : 6)), a >= 0 || Number.isNaN(a));
          if (Number.isNaN(a) || !Number.isFinite(a)) zero = false;
          if (a === Infinity && !plus) s = s.replace('+Inf', space ? ' Inf' : '+Inf');
        } else s = badVerb(verb, a, sprintV);
        break;
      case 's':
        s = typeof a === 'string' ? a : isNum || isInt ? badVerb(verb, a, sprintV) : sprintV(a);
        if (prec !== undefined) s = [...s].slice(0, prec).join('');
        break;
      case 'q':
        s = typeof a === 'string' ? goQuoteString(a) : badVerb(verb, a, sprintV);
        break;
      case 'x':
      case 'X': {
        if (isInt) s = (a.value < 0 ? '-' : '') + (sharp ? '0x' : '') + Math.abs(a.value).toString(16);
        else if (typeof a === 'string') s = Buffer.from(a, 'utf8').toString('hex');
        else s = badVerb(verb, a, sprintV);
        if (verb === 'X') s = s.toUpperCase();
        break;
      }
      case 't':
        s = typeof a === 'boolean' ? String(a) : badVerb(verb, a, sprintV);
        break;
      case 'c':
        s = isInt ? String.fromCodePoint(a.value) : badVerb(verb, a, sprintV);
        break;
      default:
        s = badVerb(verb, a, sprintV);
    }
    out += pad(s, width, minus, zero && verb !== 's' && verb !== 'q' && verb !== 'v');
  }
  if (argi < args.length) {
    out += '%!(EXTRA ' + args.slice(argi).map((a) => `${goTypeName(a)}=${sprintV(a)}`).join(', ') + ')';
  }
  return out;
}

function badVerb(verb: string, a: unknown, sprintV: (v: unknown) => string): string {
  return `%!${verb}(${goTypeName(a)}=${sprintV(a)})`;
}

/** goTypeName names the Go type a template value stands for. */
export function goTypeName(a: unknown): string {
  if (a === null || a === undefined) return '<nil>';
  if (typeof a === 'number') return 'float64';
  if (a instanceof GoInt) return 'int';
  if (typeof a === 'string') return 'string';
  if (typeof a === 'boolean') return 'bool';
  if (a instanceof Map) return 'map[string]string';
  if (Array.isArray(a)) return 'template.queryResult';
  return 'struct';
}

/** goQuoteString is Go's strconv.Quote for printable text. */
export function goQuoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}
