import { apiGet } from './api.js';
import { el } from './format.js';

// The Alerts and Rules pages: /api/v1/rules (Prometheus's format) of a querier or a ruler.

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  keepFiringSince?: string;
  value: string;
}

interface ApiRule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  labels: Record<string, string>;
  health: string;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
  state?: 'unknown' | 'inactive' | 'pending' | 'firing';
  duration?: number;
  keepFiringFor?: number;
  annotations?: Record<string, string>;
  alerts?: ApiAlert[] | null;
}

interface ApiGroup {
  name: string;
  file: string;
  interval: number;
  limit: number;
  evaluationTime: number;
  lastEvaluation: string;
  rules: ApiRule[];
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** ago renders the time since an RFC 3339 instant, e.g. "12.3s ago"; "never" for Go's zero time. */
function ago(t: string): string {
  if (t === ZERO_TIME || t === '') return 'never';
  const s = (Date.now() - Date.parse(t)) / 1000;
  if (!Number.isFinite(s)) return t;
  if (s < 60) return `${Math.max(0, s).toFixed(1)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.floor(s % 60)}s ago`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
}

/** seconds renders a duration in seconds the way Prometheus's UI does (ms below one second). */
function seconds(s: number): string {
  return s < 1 ? `${(s * 1000).toFixed(3)}ms` : `${s.toFixed(3)}s`;
}

function badges(ls: Record<string, string> | undefined): HTMLElement {
  const span = el('span', { class: 'labels' });
  for (const [k, v] of Object.entries(ls ?? {})) span.append(el('span', { class: 'badge' }, `${k}="${v}"`));
  return span;
}

async function loadGroups(root: HTMLElement, base: string, title: string, query: string): Promise<ApiGroup[] | undefined> {
  const status = el('div', { class: 'status' }, 'Loading…');
  root.replaceChildren(el('h2', {}, title), status);
  const res = await apiGet<{ groups: ApiGroup[] }>(base, `rules${query}`);
  if (res.status !== 'success' || res.data === undefined) {
    status.textContent = `${res.errorType ?? 'error'}: ${res.error ?? ''}`;
    status.className = 'alert error';
    return undefined;
  }
  status.remove();
  for (const w of res.warnings ?? []) root.append(el('div', { class: 'alert warning' }, w));
  return res.data.groups;
}

/** renderRules shows every rule group: each rule's expression, labels, health, error and evaluation times. */
export async function renderRules(root: HTMLElement, base: string): Promise<void> {
  const groups = await loadGroups(root, base, 'Rules', '?exclude_alerts=true');
  if (groups === undefined) return;
  if (groups.length === 0) root.append(el('p', { class: 'empty' }, 'No rule groups are loaded.'));
  for (const g of groups) {
    const table = el(
      'table',
      { class: 'rules' },
      el('thead', {}, el('tr', {}, ...['Rule', 'State', 'Error', 'Last evaluation', 'Evaluation time'].map((h) => el('th', {}, h)))),
    );
    const body = el('tbody');
    for (const r of g.rules) {
      const def = el('div', { class: 'mono rule-def' });
      def.append(el('div', {}, el('b', {}, r.type === 'alerting' ? 'alert: ' : 'record: '), r.name));
      def.append(el('div', {}, el('b', {}, 'expr: '), el('span', { class: 'expr' }, r.query)));
      if (r.type === 'alerting' && (r.duration ?? 0) > 0) def.append(el('div', {}, el('b', {}, 'for: '), `${r.duration}s`));
      if (r.type === 'alerting' && (r.keepFiringFor ?? 0) > 0) def.append(el('div', {}, el('b', {}, 'keep_firing_for: '), `${r.keepFiringFor}s`));
      if (Object.keys(r.labels).length > 0) def.append(el('div', {}, el('b', {}, 'labels: '), badges(r.labels)));
      if (r.annotations !== undefined && Object.keys(r.annotations).length > 0) def.append(el('div', {}, el('b', {}, 'annotations: '), badges(r.annotations)));
      body.append(
        el(
          'tr',
          { 'data-rule': r.name },
          el('td', {}, def),
          el('td', {}, el('span', { class: `health ${r.health === 'ok' ? 'up' : r.health === 'err' ? 'down' : 'unknown'}` }, r.health.toUpperCase())),
          el('td', { class: 'error-text mono' }, r.lastError ?? ''),
          el('td', { class: 'mono', title: r.lastEvaluation }, ago(r.lastEvaluation)),
          el('td', { class: 'mono' }, seconds(r.evaluationTime)),
        ),
      );
    }
    table.append(body);
    const head = el(
      'div',
      { class: 'group-head' },
      el('h3', {}, g.name),
      el('span', { class: 'meta-line mono' }, `${g.file} · every ${g.interval}s${g.limit > 0 ? ` · limit ${g.limit}` : ''} · last evaluation ${ago(g.lastEvaluation)} · took ${seconds(g.evaluationTime)}`),
    );
    root.append(el('section', { class: 'rule-group' }, head, table));
  }
}

const STATES = ['inactive', 'pending', 'firing'] as const;

/** renderAlerts shows the alerting rules by state with their active alerts, filterable by state. */
export async function renderAlerts(root: HTMLElement, base: string): Promise<void> {
  const groups = await loadGroups(root, base, 'Alerts', '?type=alert');
  if (groups === undefined) return;
  const rules = groups.flatMap((g) => g.rules.map((r) => ({ g, r })));
  const count = (s: string) => rules.filter(({ r }) => (r.state ?? 'unknown') === s).length;
  const shown = new Set<string>(['inactive', 'pending', 'firing', 'unknown']);
  const filters = el('div', { class: 'row state-filters' });
  const list = el('div', { class: 'alert-rules' });
  for (const s of STATES) {
    const box = el('input', { type: 'checkbox', 'data-state': s });
    box.checked = true;
    box.addEventListener('change', () => {
      if (box.checked) shown.add(s);
      else shown.delete(s);
      draw();
    });
    filters.append(el('label', { class: 'check' }, box, el('span', { class: `state ${s}` }, `${s[0]!.toUpperCase()}${s.slice(1)} (${count(s)})`)));
  }
  root.append(filters, list);
  const draw = (): void => {
    list.replaceChildren();
    if (rules.length === 0) list.append(el('p', { class: 'empty' }, 'No alerting rules are loaded.'));
    for (const { g, r } of rules) {
      const state = r.state ?? 'unknown';
      if (!shown.has(state)) continue;
      const alerts = r.alerts ?? [];
      const box = el('details', { class: `alert-rule ${state}`, 'data-rule': r.name });
      if (state === 'firing') box.open = true;
      box.append(
        el(
          'summary',
          {},
          el('span', { class: `state ${state}` }, state.toUpperCase()),
          ' ',
          el('b', {}, r.name),
          ` (${alerts.length} active)`,
          el('span', { class: 'meta' }, `${g.file} > ${g.name}`),
        ),
      );
      const def = el('div', { class: 'mono rule-def' });
      def.append(el('div', {}, el('b', {}, 'expr: '), r.query));
      if ((r.duration ?? 0) > 0) def.append(el('div', {}, el('b', {}, 'for: '), `${r.duration}s`));
      if (Object.keys(r.labels).length > 0) def.append(el('div', {}, el('b', {}, 'labels: '), badges(r.labels)));
      if (r.annotations !== undefined && Object.keys(r.annotations).length > 0) def.append(el('div', {}, el('b', {}, 'annotations: '), badges(r.annotations)));
      if (r.lastError !== undefined) def.append(el('div', { class: 'error-text' }, r.lastError));
      box.append(def);
      if (alerts.length > 0) {
        const t = el('table', { class: 'alerts' }, el('thead', {}, el('tr', {}, ...['Labels', 'State', 'Active since', 'Value', 'Annotations'].map((h) => el('th', {}, h)))));
        const tb = el('tbody');
        for (const a of alerts) {
          tb.append(
            el(
              'tr',
              {},
              el('td', {}, badges(a.labels)),
              el('td', {}, el('span', { class: `state ${a.state}` }, a.state.toUpperCase())),
              el('td', { class: 'mono', title: a.activeAt }, a.activeAt),
              el('td', { class: 'mono' }, a.value),
              el('td', {}, ...Object.entries(a.annotations).map(([k, v]) => el('div', {}, el('b', {}, `${k}: `), v))),
            ),
          );
        }
        t.append(tb);
        box.append(t);
      }
      list.append(box);
    }
  };
  draw();
}
