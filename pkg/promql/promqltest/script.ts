import type { Labels } from '../../labels/index.js';
import { parseDuration } from './duration.js';
import { parseNumber, parseSeriesDesc, type SequenceValue } from './series-desc.js';

/** ExpectAnno is an `expect warn|info|fail` line: an exact message, a regex, or any. */
export interface ExpectAnno {
  readonly message?: string;
  readonly regex?: RegExp;
}

/** LoadCmd loads series, one sample every `gap` ms from t=0. */
export interface LoadCmd {
  readonly kind: 'load';
  readonly line: number;
  readonly gap: number;
  readonly withNHCB: boolean;
  readonly series: { labels: Labels; values: SequenceValue[] }[];
}

/** ClearCmd drops all loaded data. */
export interface ClearCmd {
  readonly kind: 'clear';
  readonly line: number;
}

/** EvalCmd evaluates an expression and states the expected outcome. */
export interface EvalCmd {
  readonly kind: 'eval';
  /** line is the 1-based line of the eval command. */
  readonly line: number;
  readonly expr: string;
  readonly isRange: boolean;
  start: number;
  end: number;
  step: number;
  /** evalTime is the instant query time (or the end of an expected range vector). */
  evalTime: number;
  fail: boolean;
  warn: boolean;
  info: boolean;
  ordered: boolean;
  failMessage: string | undefined;
  failRegexp: RegExp | undefined;
  expectFail: ExpectAnno[];
  expectWarn: ExpectAnno[];
  expectInfo: ExpectAnno[];
  noWarn: boolean;
  noInfo: boolean;
  expectScalar: boolean;
  /** expected results by label key, with their 1-based position among result lines. */
  expected: Map<string, { labels: Labels | undefined; pos: number; vals: SequenceValue[] }>;
  expectedString: string | undefined;
  excludeFromRangeQuery: boolean;
  expectRangeVector: boolean;
}

/** Command is one command of a script. */
export type Command = LoadCmd | ClearCmd | EvalCmd;

/** ScriptError reports a malformed script line. */
export class ScriptError extends SyntaxError {
  override name = 'ScriptError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const patLoad = /^load(?:_(with_nhcb))?\s+(.+?)$/;
const patEvalInstant = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;
const patEvalRange = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/;
const patExpect = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;
const patExpectRange = /^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$/;

function parseGoRegex(src: string): RegExp {
  // Go RE2 patterns used in scripts are compatible with JS regexps for the constructs they use.
  return new RegExp(src);
}

function unquoteGoString(s: string): string {
  const t = s.trim();
  if (t.startsWith('`') && t.endsWith('`')) return t.slice(1, -1);
  if (!t.startsWith('"') || !t.endsWith('"')) throw new SyntaxError('expected string literal not valid - check that the string is correctly quoted');
  return JSON.parse(t.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')) as string;
}

/** parseScript parses a PromQL test script (the upstream promqltest format). */
export function parseScript(input: string): Command[] {
  const lines = input.split('\n').map((l) => {
    const t = l.trim();
    return t.startsWith('#') ? '' : t;
  });
  const cmds: Command[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    const word = l.split(/[\t ]+/, 1)[0]!.toLowerCase();
    if (word === 'clear') {
      cmds.push({ kind: 'clear', line: i + 1 });
    } else if (word.startsWith('load')) {
      const m = patLoad.exec(l);
      if (m === null) throw new ScriptError(i + 1, 'invalid load command. (load[_with_nhcb] <step:duration>)');
      const cmd: LoadCmd = { kind: 'load', line: i + 1, gap: parseDuration(m[2]!), withNHCB: m[1] === 'with_nhcb', series: [] };
      while (i + 1 < lines.length && lines[i + 1] !== '') {
        i++;
        // `<series>@st <values>` lines give start timestamps, which the engine does not support
        // yet: they are skipped, so only the evals that do not depend on them can pass.
        if (/^\s*[^\s]*\}?@st\s/.test(lines[i]!)) continue;
        try {
          cmd.series.push(parseSeriesDesc(lines[i]!));
        } catch (err) {
          throw new ScriptError(i + 1, (err as Error).message);
        }
      }
      cmds.push(cmd);
    } else if (word.startsWith('eval')) {
      const r = parseEval(lines, i);
      i = r.i;
      cmds.push(r.cmd);
    } else {
      throw new ScriptError(i + 1, `invalid command ${JSON.stringify(l)}`);
    }
  }
  return cmds;
}

function parseEval(lines: string[], i: number): { i: number; cmd: EvalCmd } {
  const line = lines[i]!;
  const mi = patEvalInstant.exec(line);
  const mr = mi === null ? patEvalRange.exec(line) : null;
  if (mi === null && mr === null) throw new ScriptError(i + 1, 'invalid evaluation command');
  const isRange = mi === null;
  const mod = (isRange ? mr![1] : mi![1]) ?? '';
  const expr = isRange ? mr![5]! : mi![3]!;
  const cmd: EvalCmd = {
    kind: 'eval',
    line: i + 1,
    expr,
    isRange,
    start: 0,
    end: 0,
    step: 0,
    evalTime: 0,
    fail: mod === 'fail',
    warn: mod === 'warn',
    info: mod === 'info',
    ordered: mod === 'ordered',
    failMessage: undefined,
    failRegexp: undefined,
    expectFail: [],
    expectWarn: [],
    expectInfo: [],
    noWarn: false,
    noInfo: false,
    expectScalar: false,
    expected: new Map(),
    expectedString: undefined,
    excludeFromRangeQuery: false,
    expectRangeVector: false,
  };
  if (isRange) {
    cmd.start = parseDuration(mr![2]!);
    cmd.end = parseDuration(mr![3]!);
    cmd.step = parseDuration(mr![4]!);
  } else {
    cmd.start = parseDuration(mi![2] ?? '0');
    cmd.evalTime = cmd.start;
  }
  let j = 1;
  while (i + 1 < lines.length) {
    i++;
    const def = lines[i]!;
    if (def === '') {
      i--;
      break;
    }
    if ((cmd.fail || cmd.expectFail.length > 0) && def.startsWith('expected_fail_message')) {
      cmd.failMessage = def.slice('expected_fail_message'.length).trim();
      break;
    }
    if ((cmd.fail || cmd.expectFail.length > 0) && def.startsWith('expected_fail_regexp')) {
      cmd.failRegexp = parseGoRegex(def.slice('expected_fail_regexp'.length).trim());
      break;
    }
    if (def.startsWith('expect range vector')) {
      const m = patExpectRange.exec(def);
      if (m === null) throw new ScriptError(i + 1, `invalid range vector definition ${JSON.stringify(def)}`);
      cmd.start = parseDuration(m[1]!);
      cmd.end = parseDuration(m[2]!);
      cmd.step = parseDuration(m[3]!);
      cmd.evalTime = cmd.end;
      cmd.excludeFromRangeQuery = true;
      cmd.expectRangeVector = true;
      continue;
    }
    if (def.startsWith('expect string')) {
      cmd.expectedString = unquoteGoString(def.slice('expect string'.length));
      cmd.excludeFromRangeQuery = true;
      continue;
    }
    if (def.split(' ')[0] === 'expect') {
      const m = patExpect.exec(def.trim());
      if (m === null) throw new ScriptError(i + 1, 'invalid expect statement, must match `expect <type> <match_type>: <string>` format');
      const a: ExpectAnno = m[2] === 'msg' ? { message: m[3]!.trim() } : m[2] === 'regex' ? { regex: parseGoRegex(m[3]!.trim()) } : {};
      switch (m[1]) {
        case 'fail': cmd.expectFail.push(a); break;
        case 'warn': cmd.expectWarn.push(a); break;
        case 'info': cmd.expectInfo.push(a); break;
        case 'no_warn': cmd.noWarn = true; break;
        case 'no_info': cmd.noInfo = true; break;
        case 'ordered': cmd.ordered = true; break;
      }
      continue;
    }
    const num = parseNumber(def);
    if (num !== undefined) {
      cmd.expectScalar = true;
      cmd.expected.set('', { labels: undefined, pos: 0, vals: [{ value: num, omitted: false, histogram: undefined, counterResetHintSet: false }] });
      break;
    }
    let desc;
    try {
      desc = parseSeriesDesc(def);
    } catch (err) {
      throw new ScriptError(i + 1, (err as Error).message);
    }
    if (desc.values.length > 1 && !isRange && !cmd.expectRangeVector) {
      throw new ScriptError(i + 1, "expecting multiple values in instant evaluation not allowed. consider using 'expect range vector' directive to enable a range vector result for an instant query");
    }
    cmd.expectScalar = false;
    cmd.expected.set(desc.labels.key(), { labels: desc.labels, pos: j, vals: desc.values });
    j++;
  }
  return { i, cmd };
}
