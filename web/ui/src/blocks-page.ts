import { apiGet } from './api.js';
import { el, formatTime } from './format.js';

/** BlockMeta is the part of a block's meta.json (with its thanos section) the page shows. */
export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  version: number;
  stats?: { numSeries?: number; numSamples?: number; numChunks?: number };
  compaction: { level: number; sources?: string[]; parents?: { ulid: string; minTime: number; maxTime: number }[] };
  thanos?: { labels?: Record<string, string>; downsample?: { resolution?: number }; source?: string; files?: { rel_path: string; size_bytes?: number }[] };
}

type Mark = Record<string, unknown>;

/** BlocksInfo is the data of /api/v1/blocks (Thanos's BlocksInfo, plus marks). */
export interface BlocksInfo {
  label: string;
  blocks: BlockMeta[];
  refreshedAt: string;
  err: string | null;
  marks?: Record<string, { deletion?: Mark; noCompact?: Mark }>;
}

const RESOLUTIONS: Record<number, string> = { 0: 'raw', 300000: '5m', 3600000: '1h', 86400000: '1d' };
const resolutionName = (r: number) => RESOLUTIONS[r] ?? `${r / 1000}s`;
const LEVEL_COLOURS = ['#9fc5e8', '#6fa8dc', '#3d85c6', '#0b5394', '#073763', '#20124d'];
const levelColour = (level: number) => LEVEL_COLOURS[Math.min(Math.max(level, 1), LEVEL_COLOURS.length) - 1] ?? '#073763';
const resolutionOf = (b: BlockMeta) => b.thanos?.downsample?.resolution ?? 0;

/** groupTitle names a block's group: the value of `label` if the block has it, else all its external labels. */
export function groupTitle(b: BlockMeta, label: string): string {
  const ls = b.thanos?.labels ?? {};
  const v = label !== '' ? ls[label] : undefined;
  if (v !== undefined && v !== '') return v;
  const all = Object.entries(ls)
    .sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))
    .map(([k, val]) => `${k}="${val}"`)
    .join(', ');
  return all === '' ? '(no external labels)' : `{${all}}`;
}

/**
 * layoutRows splits blocks (sorted by min time) into rows where no two blocks overlap: each
 * block goes into the first row whose last block ends at or before its start.
 */
export function layoutRows(blocks: readonly BlockMeta[]): BlockMeta[][] {
  const rows: BlockMeta[][] = [];
  for (const b of [...blocks].sort((x, y) => x.minTime - y.minTime)) {
    const row = rows.find((r) => (r[r.length - 1]?.maxTime ?? -Infinity) <= b.minTime);
    if (row !== undefined) row.push(b);
    else rows.push([b]);
  }
  return rows;
}

function humanDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  let rest = ms;
  const out: string[] = [];
  for (const [n, u] of units) {
    if (rest >= n) {
      out.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return out.join('') || `${ms}ms`;
}

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(2)} ${units[i]}`;
}

function markTime(m: Mark, field: string): string {
  const t = m[field];
  return typeof t === 'number' ? formatTime(t * 1000) : '?';
}

/** renderBlocks shows the blocks of /api/v1/blocks on a time axis, grouped by external labels. */
export async function renderBlocks(root: HTMLElement, base: string, view: string): Promise<void> {
  const status = el('div', { class: 'status' }, 'Loading…');
  root.replaceChildren(el('h2', {}, view === 'loaded' ? 'Loaded blocks' : 'Blocks'), status);
  const res = await apiGet<BlocksInfo>(base, `blocks${view === 'loaded' ? '?view=loaded' : ''}`);
  if (res.status !== 'success' || res.data === undefined) {
    status.textContent = `${res.errorType ?? 'error'}: ${res.error ?? ''}`;
    status.className = 'alert error';
    return;
  }
  const info = res.data;
  const marks = info.marks ?? {};
  status.className = 'meta-line';
  status.textContent = `${info.blocks.length} blocks · refreshed ${info.refreshedAt.startsWith('0001-') ? 'never' : info.refreshedAt}${info.label !== '' ? ` · grouped by ${info.label}` : ''}`;
  if (info.err !== null && info.err !== '') root.append(el('div', { class: 'alert error' }, `Last refresh failed: ${info.err}`));
  if (info.blocks.length === 0) {
    root.append(el('div', { class: 'alert warning' }, 'No blocks found.'));
    return;
  }

  const search = el('input', { id: 'block-search', placeholder: 'Filter by ULID', size: '30' });
  const legend = el('div', { class: 'blocks-legend' });
  const maxLevel = Math.max(...info.blocks.map((b) => b.compaction.level));
  for (let l = 1; l <= Math.min(maxLevel, LEVEL_COLOURS.length); l++) {
    legend.append(el('span', { class: 'legend-item' }, el('span', { class: 'swatch', style: `background:${levelColour(l)}` }), `level ${l}`));
  }
  legend.append(el('span', { class: 'legend-item' }, el('span', { class: 'swatch deletion' }), 'marked for deletion'));
  legend.append(el('span', { class: 'legend-item' }, el('span', { class: 'swatch no-compact' }), 'no-compact'));
  root.append(el('div', { class: 'row' }, search, legend));

  const minT = Math.min(...info.blocks.map((b) => b.minTime));
  const maxT = Math.max(...info.blocks.map((b) => b.maxTime));
  const span = Math.max(1, maxT - minT);
  const pct = (t: number) => `${(((t - minT) / span) * 100).toFixed(4)}%`;

  const axis = el('div', { class: 'blocks-axis', id: 'blocks-axis' });
  // Ticks at round UTC times (a step giving 3 to 8 of them); the first names the year.
  const steps = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 2 * 86_400_000, 7 * 86_400_000, 14 * 86_400_000, 30 * 86_400_000, 90 * 86_400_000, 365 * 86_400_000];
  const step = steps.find((st) => span / st <= 8) ?? span / 4;
  let first = true;
  for (let t = Math.ceil(minT / step) * step; t <= maxT; t += step) {
    const text = formatTime(t).replace(/:00Z$/, '').replace(/ 00:00$/, step >= 86_400_000 ? '' : ' 00:00');
    axis.append(el('span', { class: (t - minT) / span > 0.9 ? 'tick end' : 'tick', style: `left:${pct(t)}` }, first ? text : text.slice(5)));
    first = false;
  }

  const details = el('aside', { class: 'block-details', id: 'block-details', hidden: '' });
  const timeline = el('div', { class: 'blocks-timeline' });
  const layout = el('div', { class: 'blocks-layout' }, timeline, details);
  root.append(layout);

  const groups = new Map<string, BlockMeta[]>();
  for (const b of info.blocks) {
    const t = groupTitle(b, info.label);
    const g = groups.get(t);
    if (g === undefined) groups.set(t, [b]);
    else g.push(b);
  }
  const blockEls: HTMLElement[] = [];
  for (const [title, blocks] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const section = el('section', { class: 'block-group', 'data-group': title });
    section.append(el('h3', {}, title, el('span', { class: 'count' }, ` ${blocks.length} blocks`)));
    const pools = new Map<string, BlockMeta[]>();
    for (const b of blocks) {
      const key = `${resolutionOf(b)}|${b.compaction.level}`;
      const p = pools.get(key);
      if (p === undefined) pools.set(key, [b]);
      else p.push(b);
    }
    const keys = [...pools.keys()].sort((a, b) => {
      const [ra, la] = a.split('|').map(Number) as [number, number];
      const [rb, lb] = b.split('|').map(Number) as [number, number];
      return ra - rb || lb - la;
    });
    section.append(el('div', { class: 'block-row axis-row' }, el('span', { class: 'row-label' }, ''), axis.cloneNode(true) as HTMLElement));
    for (const key of keys) {
      const [res, level] = key.split('|').map(Number) as [number, number];
      for (const row of layoutRows(pools.get(key)!)) {
        const track = el('div', { class: 'row-track' });
        for (const b of row) {
          const m = marks[b.ulid];
          const cls = ['block', m?.deletion !== undefined ? 'deletion-marked' : '', m?.noCompact !== undefined ? 'no-compact-marked' : ''].filter((c) => c !== '').join(' ');
          const d = el('div', {
            class: cls,
            'data-ulid': b.ulid,
            title: `${b.ulid}\n${formatTime(b.minTime)} – ${formatTime(b.maxTime)}\nlevel ${b.compaction.level}, ${resolutionName(resolutionOf(b))}`,
            style: `left:${pct(b.minTime)};width:${((Math.max(0, b.maxTime - b.minTime) / span) * 100).toFixed(4)}%;background:${levelColour(b.compaction.level)}`,
          });
          d.addEventListener('click', () => {
            for (const o of blockEls) o.classList.toggle('selected', o === d);
            showDetails(details, b, m, base, () => void renderBlocks(root, base, view));
          });
          blockEls.push(d);
          track.append(d);
        }
        section.append(el('div', { class: 'block-row', 'data-resolution': resolutionName(res), 'data-level': String(level) }, el('span', { class: 'row-label' }, `${resolutionName(res)} · L${level}`), track));
      }
    }
    timeline.append(section);
  }

  search.addEventListener('input', () => {
    const q = search.value.trim().toUpperCase();
    for (const d of blockEls) d.classList.toggle('dimmed', q !== '' && !(d.dataset['ulid'] ?? '').includes(q));
  });
}

/** markBlock POSTs an admin action (DELETION, NO_COMPACTION) for a block; resolves with an error text or undefined. */
async function markBlock(base: string, id: string, action: string, detail: string): Promise<string | undefined> {
  const body = new URLSearchParams({ id, action, ...(detail !== '' ? { detail } : {}) });
  const res = await fetch(`${base}/api/v1/blocks/mark`, { method: 'POST', body });
  if (res.ok) return undefined;
  const text = await res.text();
  try {
    return (JSON.parse(text) as { error?: string }).error ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}: ${text.slice(0, 200)}`;
  }
}

function showDetails(panel: HTMLElement, b: BlockMeta, m: { deletion?: Mark; noCompact?: Mark } | undefined, base: string, reload: () => void): void {
  const row = (id: string, name: string, value: string | Node) => el('div', { class: 'detail', 'data-field': id }, el('b', {}, `${name}: `), el('span', {}, value));
  const labels = el('ul', { class: 'labels' });
  for (const [k, v] of Object.entries(b.thanos?.labels ?? {})) labels.append(el('li', {}, el('span', { class: 'badge' }, `${k}="${v}"`)));
  let index = 0;
  let chunks = 0;
  for (const f of b.thanos?.files ?? []) {
    if (f.rel_path === 'index') index += f.size_bytes ?? 0;
    else if (f.rel_path.startsWith('chunks/')) chunks += f.size_bytes ?? 0;
  }
  const close = el('button', { class: 'close', title: 'Close' }, '×');
  close.addEventListener('click', () => {
    panel.hidden = true;
  });
  const download = el('a', { href: `data:application/json,${encodeURIComponent(JSON.stringify(b, null, 2))}`, download: 'meta.json' }, 'Download meta.json');
  panel.replaceChildren(
    el('div', { class: 'details-top' }, el('span', { class: 'mono ulid', id: 'detail-ulid' }, b.ulid), close),
    row('start', 'Start time', formatTime(b.minTime)),
    row('end', 'End time', formatTime(b.maxTime)),
    row('duration', 'Duration', humanDuration(b.maxTime - b.minTime)),
    el('hr'),
    row('series', 'Series', String(b.stats?.numSeries ?? 0)),
    row('samples', 'Samples', String(b.stats?.numSamples ?? 0)),
    row('chunks', 'Chunks', String(b.stats?.numChunks ?? 0)),
    ...(index + chunks > 0 ? [row('size', 'Size', `${humanBytes(index + chunks)} (index ${humanBytes(index)}, chunks ${humanBytes(chunks)})`)] : []),
    el('hr'),
    row('resolution', 'Resolution', resolutionName(resolutionOf(b))),
    row('level', 'Level', String(b.compaction.level)),
    row('source', 'Source', b.thanos?.source ?? ''),
    row('sources', 'Compacted from', String(b.compaction.sources?.length ?? 1)),
    el('hr'),
    el('div', { class: 'detail', 'data-field': 'labels' }, el('b', {}, 'Labels:'), labels),
    ...(m?.deletion !== undefined ? [row('deletion', 'Marked for deletion', `${markTime(m.deletion, 'deletion_time')}${typeof m.deletion['details'] === 'string' ? ` (${m.deletion['details']})` : ''}`)] : []),
    ...(m?.noCompact !== undefined ? [row('no-compact', 'No-compact', `${markTime(m.noCompact, 'no_compact_time')}: ${String(m.noCompact['reason'] ?? '')}`)] : []),
    el('hr'),
    download,
  );
  if (m?.deletion === undefined || m.noCompact === undefined) {
    const reason = el('input', { id: 'mark-detail', placeholder: 'Reason (optional)', size: '28' });
    const status = el('div', { class: 'mark-status' });
    const admin = el('div', { class: 'admin' }, el('hr'), reason);
    for (const [action, text, has] of [
      ['DELETION', 'Mark for deletion', m?.deletion !== undefined],
      ['NO_COMPACTION', 'Mark no-compact', m?.noCompact !== undefined],
    ] as const) {
      if (has) continue;
      const button = el('button', { id: `mark-${action.toLowerCase()}`, class: 'secondary' }, text);
      button.addEventListener('click', () => {
        button.disabled = true;
        void markBlock(base, b.ulid, action, reason.value.trim()).then((err) => {
          if (err === undefined) return reload();
          status.className = 'mark-status alert error';
          status.textContent = err;
          button.disabled = false;
        });
      });
      admin.append(button);
    }
    admin.append(status);
    panel.append(admin);
  }
  panel.hidden = false;
}
