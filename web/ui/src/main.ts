import 'uplot/dist/uPlot.min.css';
import './style.css';
import { renderBlocks } from './blocks-page.js';
import { el } from './format.js';
import { renderQueryPage } from './query-page.js';
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
  const isStores = path === '/stores';
  for (const [href, text] of [
    [`${base}/graph`, 'Query'],
    [`${base}/stores`, 'Stores'],
  ] as const) {
    nav.append(el('a', { href, class: (text === 'Stores') === isStores ? 'active' : '' }, text));
  }
  document.body.replaceChildren(nav, main);
  if (isStores) void renderStores(main, base);
  else renderQueryPage(main, base, apiOrigin);
}
