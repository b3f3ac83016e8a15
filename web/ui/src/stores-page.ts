import { apiGet } from './api.js';
import { el, formatTime } from './format.js';

interface StoreStatus {
  name: string;
  healthy: boolean;
  componentType: string;
  labelSets: Record<string, string>[];
  minTime: number;
  maxTime: number;
  lastCheck: string;
  lastError: string | null;
}

const time = (ms: number) => (ms <= -9e15 ? '−∞' : ms >= 9e15 ? '+∞' : formatTime(ms));

/** renderStores shows the querier's StoreAPI endpoints grouped by component type. */
export async function renderStores(root: HTMLElement, base: string): Promise<void> {
  const status = el('div', { class: 'status' }, 'Loading…');
  root.replaceChildren(el('h2', {}, 'Stores'), status);
  const res = await apiGet<StoreStatus[]>(base, 'stores');
  if (res.status !== 'success' || res.data === undefined) {
    status.textContent = `${res.errorType ?? 'error'}: ${res.error ?? ''}`;
    status.className = 'alert error';
    return;
  }
  status.remove();
  if (res.data.length === 0) root.append(el('p', {}, 'No StoreAPI endpoints are configured.'));
  const types = [...new Set(res.data.map((s) => s.componentType || 'unknown'))].sort();
  for (const type of types) {
    const rows = res.data.filter((s) => (s.componentType || 'unknown') === type);
    const table = el(
      'table',
      { class: 'stores' },
      el('thead', {}, el('tr', {}, ...['Endpoint', 'Status', 'Announced label sets', 'Min time', 'Max time', 'Last check', 'Last error'].map((h) => el('th', {}, h)))),
    );
    const body = el('tbody');
    for (const s of rows) {
      const labels = el('td');
      for (const ls of s.labelSets) {
        const line = el('div', { class: 'labelset' });
        for (const [k, v] of Object.entries(ls)) line.append(el('span', { class: 'badge' }, `${k}="${v}"`));
        labels.append(line);
      }
      body.append(
        el(
          'tr',
          {},
          el('td', { class: 'mono' }, s.name),
          el('td', {}, el('span', { class: s.healthy ? 'health up' : 'health down' }, s.healthy ? 'UP' : 'DOWN')),
          labels,
          el('td', { class: 'mono' }, time(s.minTime)),
          el('td', { class: 'mono' }, time(s.maxTime)),
          el('td', { class: 'mono' }, s.lastCheck),
          el('td', { class: 'error-text' }, s.lastError ?? ''),
        ),
      );
    }
    table.append(body);
    root.append(el('h3', {}, `${type} (${rows.length})`), table);
  }
}
