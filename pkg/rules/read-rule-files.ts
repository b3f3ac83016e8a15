import { readFile, readdir, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { RuleFileSource } from './rule-manager.js';

const META = /[*?[\\]/;

function segmentRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) throw new Error(`syntax error in pattern ${JSON.stringify(seg)}`);
      let cls = seg.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < seg.length) re += seg[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** globFiles expands a Go filepath.Glob pattern (`*`, `?`, `[…]` within one path element), sorted. */
export async function globFiles(pattern: string): Promise<string[]> {
  if (!META.test(pattern)) {
    try {
      await stat(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const parts = pattern.split(sep);
  let bases = [parts[0] === '' ? sep : parts[0]!];
  let start = 1;
  if (META.test(parts[0]!)) {
    bases = ['.'];
    start = 0;
  }
  for (let i = start; i < parts.length; i++) {
    const seg = parts[i]!;
    const next: string[] = [];
    for (const b of bases) {
      if (!META.test(seg)) {
        next.push(b === '.' && start === 0 ? seg : join(b, seg));
        continue;
      }
      let names: string[];
      try {
        names = await readdir(b);
      } catch {
        continue;
      }
      const re = segmentRegExp(seg);
      for (const n of names.sort()) if (re.test(n)) next.push(b === '.' && start === 0 ? n : join(b, n));
    }
    bases = next;
    start = 1;
  }
  const out: string[] = [];
  for (const p of bases) {
    try {
      if ((await stat(p)).isFile()) out.push(p);
    } catch {
      // vanished or dangling
    }
  }
  return out;
}

/**
 * readRuleFiles expands rule-file patterns (Thanos --rule-file / Prometheus rule_files: globs) and
 * reads each file once, in pattern order.
 */
export async function readRuleFiles(patterns: readonly string[]): Promise<RuleFileSource[]> {
  const seen = new Set<string>();
  const out: RuleFileSource[] = [];
  for (const p of patterns) {
    for (const f of await globFiles(p)) {
      if (seen.has(f)) continue;
      seen.add(f);
      out.push({ path: f, text: await readFile(f, 'utf8') });
    }
  }
  return out;
}
