/** Metric is a series' label set as the API returns it. */
export type Metric = Record<string, string>;

/** metricString renders a label set the way Prometheus prints it: name{a="b", ...}. */
export function metricString(m: Metric): string {
  const name = m['__name__'] ?? '';
  const rest = Object.entries(m)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return rest.length === 0 && name !== '' ? name : `${name}{${rest.join(', ')}}`;
}

/** el builds an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

/** formatTime renders ms since the epoch as a compact UTC time. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.000Z$/, 'Z');
}

/** colour picks a stable, distinguishable colour for series i. */
export function colour(i: number): string {
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  return palette[i % palette.length] ?? '#333';
}
