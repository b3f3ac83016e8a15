import { TesseraError } from '../../errors/index.js';
import { Labels, MetricName, type Label } from '../../labels/index.js';
import { floatBits } from '../../chunkenc/index.js';

/** OpenMetricsParseError is a syntax error in OpenMetrics text, with the 1-based line number. */
export class OpenMetricsParseError extends TesseraError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super('TESSERA_OPENMETRICS_PARSE', `parse OpenMetrics ${file} line ${line}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

/** MetricMetadata is what `# TYPE`, `# HELP` and `# UNIT` lines said about a metric family. */
export interface MetricMetadata {
  type?: string;
  help?: string;
  unit?: string;
}

/**
 * OpenMetricsBatch is a batch of parsed samples in input order, column-wise so that values keep
 * their exact bit patterns (plain JS arrays would quiet signalling NaNs). `timestamps[i]` is in
 * milliseconds (Go's int64(seconds * 1000)) or NaN when the sample has none.
 */
export interface OpenMetricsBatch {
  length: number;
  readonly labels: Labels[];
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
  readonly lines: Int32Array;
}

/** OpenMetricsParserOptions configures an OpenMetricsParser. */
export interface OpenMetricsParserOptions {
  /** file names the input in error messages (default "input"). */
  readonly file?: string;
  /** batchSize is the number of samples per batch (default 8192). */
  readonly batchSize?: number;
}

const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']);
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** goNaN is Go's math.NaN() (0x7FF8000000000001), what strconv.ParseFloat("NaN") returns. */
function goNaN(): number {
  floatBits.u32[floatBits.HI] = 0x7ff80000;
  floatBits.u32[floatBits.LO] = 1;
  return floatBits.f64[0]!;
}

/**
 * parseGoFloat parses a float like Go's strconv.ParseFloat on the tokens the OpenMetrics grammar
 * allows (decimal, exponent, ±Inf, NaN); it returns undefined for anything else.
 */
export function parseGoFloat(s: string): number | undefined {
  if (FLOAT.test(s)) return Number(s);
  const l = s.toLowerCase();
  const sign = l[0] === '-' ? -1 : 1;
  const body = l[0] === '-' || l[0] === '+' ? l.slice(1) : l;
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  if (l === 'nan') return goNaN();
  return undefined;
}

/**
 * OpenMetricsParser parses OpenMetrics text as `promtool tsdb create-blocks-from openmetrics` reads
 * it: `# TYPE`/`# HELP`/`# UNIT` metadata, samples `name{labels} value [timestamp-seconds]
 * [# exemplar]`, and a mandatory final `# EOF`. Feed text with push() (any split, including in the
 * middle of lines), then end(); both return the complete batches ready so far. Errors are
 * OpenMetricsParseErrors naming the line. Label sets of repeated series texts are shared.
 */
export class OpenMetricsParser {
  readonly #file: string;
  readonly #batchSize: number;
  #pending = '';
  #line = 0;
  #eof = false;
  #batch: OpenMetricsBatch;
  readonly #series = new Map<string, Labels>();
  /** metadata by metric family name. */
  readonly metadata = new Map<string, MetricMetadata>();

  constructor(options: OpenMetricsParserOptions = {}) {
    this.#file = options.file ?? 'input';
    this.#batchSize = options.batchSize ?? 8192;
    this.#batch = this.#newBatch();
  }

  #newBatch(): OpenMetricsBatch {
    const n = this.#batchSize;
    return { length: 0, labels: [], values: new Float64Array(n), timestamps: new Float64Array(n), lines: new Int32Array(n) };
  }

  /** push parses the complete lines of `text` (prefixed by any partial line left before). */
  push(text: string): OpenMetricsBatch[] {
    const out: OpenMetricsBatch[] = [];
    let s = this.#pending + text;
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl < 0) break;
      this.#parseLine(s.slice(start, nl), out);
      start = nl + 1;
    }
    this.#pending = s.slice(start);
    s = '';
    return out;
  }

  /** end finishes the input: checks for `# EOF` and returns the last batch. */
  end(): OpenMetricsBatch[] {
    const out: OpenMetricsBatch[] = [];
    if (this.#pending !== '') {
      const p = this.#pending;
      this.#pending = '';
      if (p === '# EOF' && !this.#eof) {
        this.#parseLine(p, out);
      } else {
        this.#fail(this.#line + 1, 'data does not end with a newline');
      }
    }
    if (!this.#eof) this.#fail(this.#line + 1, 'expected "# EOF" at the end of the input');
    if (this.#batch.length > 0) {
      out.push(this.#batch);
      this.#batch = this.#newBatch();
    }
    return out;
  }

  #fail(line: number, msg: string): never {
    throw new OpenMetricsParseError(this.#file, line, msg);
  }

  #parseLine(line: string, out: OpenMetricsBatch[]): void {
    const no = ++this.#line;
    if (this.#eof) this.#fail(no, 'unexpected data after "# EOF"');
    if (line.length === 0) this.#fail(no, 'empty line');
    if (line.charCodeAt(0) === 35 /* # */) {
      this.#parseComment(line, no);
      return;
    }
    // Series text: name, then optional {labels}.
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    let seriesEnd = i;
    if (line[i] === '{') {
      seriesEnd = this.#skipLabels(line, i, no);
    }
    const seriesText = line.slice(0, seriesEnd);
    let labels = this.#series.get(seriesText);
    if (labels === undefined) {
      labels = this.#parseSeries(seriesText, no);
      this.#series.set(seriesText, labels);
    }
    if (line[seriesEnd] !== ' ') this.#fail(no, `expected a space and a value after ${JSON.stringify(seriesText)}`);
    const rest = line.slice(seriesEnd + 1);
    let exemplarAt = rest.indexOf(' # ');
    const main = exemplarAt >= 0 ? rest.slice(0, exemplarAt) : rest;
    const parts = main.split(' ');
    if (parts.length > 2 || parts[0] === '') this.#fail(no, `expected "value [timestamp]", got ${JSON.stringify(main)}`);
    const v = parseGoFloat(parts[0]!);
    if (v === undefined) this.#fail(no, `invalid value ${JSON.stringify(parts[0])}`);
    let t = NaN;
    if (parts.length === 2) {
      const ts = parseGoFloat(parts[1]!);
      if (ts === undefined || !Number.isFinite(ts)) this.#fail(no, `invalid timestamp ${JSON.stringify(parts[1])}`);
      t = Math.trunc(ts * 1000);
    }
    const b = this.#batch;
    const k = b.length;
    b.labels.push(labels);
    b.values[k] = v;
    b.timestamps[k] = t;
    b.lines[k] = no;
    b.length = k + 1;
    if (b.length === this.#batchSize) {
      out.push(b);
      this.#batch = this.#newBatch();
    }
  }

  #parseComment(line: string, no: number): void {
    if (line === '# EOF') {
      this.#eof = true;
      return;
    }
    const m = /^# (TYPE|HELP|UNIT) ([^ ]+)(?: (.*))?$/.exec(line);
    if (m === null) this.#fail(no, `invalid comment ${JSON.stringify(line)}: want "# TYPE", "# HELP", "# UNIT" or "# EOF"`);
    const [, kind, name, text] = m;
    if (!METRIC_NAME.test(name!)) this.#fail(no, `invalid metric name ${JSON.stringify(name)}`);
    const md = this.metadata.get(name!) ?? {};
    if (kind === 'TYPE') {
      if (text === undefined || !METRIC_TYPES.has(text)) this.#fail(no, `invalid metric type ${JSON.stringify(text ?? '')}`);
      md.type = text;
    } else if (kind === 'HELP') {
      md.help = unescapeHelp(text ?? '');
    } else {
      md.unit = text ?? '';
    }
    this.metadata.set(name!, md);
  }

  /** #skipLabels returns the index after the closing brace of the label set starting at `open`. */
  #skipLabels(line: string, open: number, no: number): number {
    let i = open + 1;
    let inStr = false;
    for (; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (inStr) {
        if (c === 92 /* \ */) i++;
        else if (c === 34 /* " */) inStr = false;
      } else if (c === 34) inStr = true;
      else if (c === 125 /* } */) return i + 1;
    }
    return this.#fail(no, 'unterminated label set');
  }

  #parseSeries(text: string, no: number): Labels {
    const brace = text.indexOf('{');
    const name = brace < 0 ? text : text.slice(0, brace);
    if (!METRIC_NAME.test(name)) this.#fail(no, `invalid metric name ${JSON.stringify(name)}`);
    const pairs: Label[] = [{ name: MetricName, value: name }];
    if (brace >= 0) {
      const body = text.slice(brace + 1, text.length - 1);
      let i = 0;
      while (i < body.length) {
        const eq = body.indexOf('=', i);
        if (eq < 0) this.#fail(no, `expected label name and "=" in ${JSON.stringify(body.slice(i))}`);
        const ln = body.slice(i, eq);
        if (!LABEL_NAME.test(ln)) this.#fail(no, `invalid label name ${JSON.stringify(ln)}`);
        if (body[eq + 1] !== '"') this.#fail(no, `expected a quoted value for label ${ln}`);
        let j = eq + 2;
        let val = '';
        let seg = j;
        for (;;) {
          if (j >= body.length) this.#fail(no, `unterminated value of label ${ln}`);
          const c = body[j];
          if (c === '"') break;
          if (c === '\\') {
            val += body.slice(seg, j);
            const e = body[j + 1];
            if (e === 'n') val += '\n';
            else if (e === '\\' || e === '"') val += e;
            else this.#fail(no, `invalid escape "\\${e ?? ''}" in value of label ${ln}`);
            j += 2;
            seg = j;
            continue;
          }
          j++;
        }
        val += body.slice(seg, j);
        if (pairs.some((p) => p.name === ln)) this.#fail(no, `duplicate label name ${ln}`);
        pairs.push({ name: ln, value: val });
        i = j + 1;
        if (i < body.length) {
          if (body[i] !== ',') this.#fail(no, `expected "," or "}" after the value of label ${ln}`);
          i++;
        }
      }
    }
    return Labels.fromPairs(pairs);
  }
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * parseOpenMetrics streams OpenMetrics text from byte or string chunks (e.g. a file read stream)
 * and yields sample batches as they complete.
 */
export async function* parseOpenMetrics(input: AsyncIterable<Uint8Array | string>, options: OpenMetricsParserOptions = {}): AsyncGenerator<OpenMetricsBatch> {
  const p = new OpenMetricsParser(options);
  const dec = new TextDecoder('utf-8');
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : dec.decode(chunk, { stream: true });
    yield* p.push(text);
  }
  const tail = dec.decode();
  if (tail !== '') yield* p.push(tail);
  yield* p.end();
}
