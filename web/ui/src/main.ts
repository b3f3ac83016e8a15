import 'uplot/dist/uPlot.min.css';
import './style.css';
import { el } from './format.js';
import { renderQueryPage } from './query-page.js';
import { renderStores } from './stores-page.js';

/** The querier serves this bundle under its external prefix, written into a meta tag. */
const base = (document.querySelector('meta[name="tessera-prefix"]')?.getAttribute('content') ?? '').replace(/\/+$/, '');
const apiOrigin = `${location.origin}${base}`;
const path = location.pathname.slice(base.length).replace(/\/+$/, '') || '/';

const pages: [string, string][] = [
  [`${base}/graph`, 'Query'],
  [`${base}/stores`, 'Stores'],
];
const isStores = path === '/stores';
const nav = el('nav', {}, el('a', { class: 'brand', href: `${base}/graph` }, 'Tessera'));
for (const [href, text] of pages) nav.append(el('a', { href, class: (text === 'Stores') === isStores ? 'active' : '' }, text));
const main = el('main');
document.body.replaceChildren(nav, main);
if (isStores) void renderStores(main, base);
else renderQueryPage(main, base, apiOrigin);
