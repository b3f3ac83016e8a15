import 'uplot/dist/uPlot.min.css';
import './style.css';
import { renderBlocks } from './blocks-page.js';
import { el } from './format.js';
import { renderQueryPage } from './query-page.js';
import { renderAlerts, renderRules } from './rules-page.js';
import { renderStores } from './stores-page.js';

const meta = (name: string) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
/** The server serves this bundle under its external prefix, written into a meta tag. */
const base = meta('tessera-prefix').replace(/\/+$/, '');
const apiOrigin = `${location.origin}${base}`;
const path = location.pathname.slice(base.length).replace(/\/+$/, '') || '/';
/** The kind of UI: the querier's pages, or a bucket's (store, compactor, `tools bucket web`). */
const kind = meta('tessera-ui') || 'query';

const main = el('main');
const nav = el('nav', {}, el('a', { class: 'brand', href: `${base}/` }, 'Tessera'));
if (kind === 'bucket') {
  const view = path === '/loaded' ? 'loaded' : path === '/global' || path === '/blocks' ? 'global' : meta('tessera-blocks-view') || 'global';
  nav.append(el('a', { href: `${base}/blocks`, class: view === 'global' ? 'active' : '' }, 'Blocks'));
  if (meta('tessera-blocks-view') === 'loaded') nav.append(el('a', { href: `${base}/loaded`, class: view === 'loaded' ? 'active' : '' }, 'Loaded blocks'));
  document.body.replaceChildren(nav, main);
  void renderBlocks(main, base, view);
} else {
  // 'query': the querier's pages; 'rule': a ruler's (alerts and rules only).
  const pages: [string, string][] =
    kind === 'rule'
      ? [
          ['/alerts', 'Alerts'],
          ['/rules', 'Rules'],
        ]
      : [
          ['/graph', 'Query'],
          ['/alerts', 'Alerts'],
          ['/rules', 'Rules'],
          ['/stores', 'Stores'],
        ];
  const page = pages.some(([p]) => p === path) ? path : kind === 'rule' ? '/alerts' : '/graph';
  for (const [p, text] of pages) nav.append(el('a', { href: `${base}${p}`, class: p === page ? 'active' : '' }, text));
  document.body.replaceChildren(nav, main);
  if (page === '/stores') void renderStores(main, base);
  else if (page === '/alerts') void renderAlerts(main, base);
  else if (page === '/rules') void renderRules(main, base);
  else renderQueryPage(main, base, apiOrigin);
}
