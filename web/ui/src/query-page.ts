import type uPlot from 'uplot';
import { apiCall, type ApiResponse } from './api.js';
import { createEditor } from './editor.js';
import { el, metricString, type Metric } from './format.js';
import { drawGraph, type MatrixSeries } from './graph.js';
import { parseDuration, stateFromUrl, urlFromState, type QueryState } from './url-state.js';

type Result =
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'vector'; result: { metric: Metric; value?: [number, string]; histogram?: [number, unknown] }[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

const maxTableRows = 10_000;

/** renderQueryPage mounts the expression browser: editor, controls, graph and table tabs. */
export function renderQueryPage(root: HTMLElement, base: string, apiOrigin: string): void {
  const state: QueryState = stateFromUrl(new URLSearchParams(location.search));
  let plot: uPlot | undefined;
  let inflight: AbortController | undefined;

  const editorBox = el('div', { class: 'editor', id: 'editor' });
  const runButton = el('button', { class: 'primary', id: 'execute' }, 'Execute');
  const dedup = checkbox('dedup', 'Use deduplication', state.dedup);
  const partial = checkbox('partial-response', 'Use partial response', state.partialResponse);
  const msr = el('select', { id: 'max-source-resolution', title: 'Max source resolution' });
  for (const [v, label] of [
    ['auto', 'Auto downsampling'],
    ['0s', 'Only raw data'],
    ['5m', 'Max 5m downsampling'],
    ['1h', 'Max 1h downsampling'],
    ['1d', 'Max 1d downsampling'],
  ] as const) {
    const o = el('option', { value: v }, label);
    if (v === state.maxSourceResolution) o.selected = true;
    msr.append(o);
  }
  const tabGraph = el('button', { class: 'tab', id: 'tab-graph', 'data-tab': 'graph' }, 'Graph');
  const tabTable = el('button', { class: 'tab', id: 'tab-table', 'data-tab': 'table' }, 'Table');
  const range = el('input', { id: 'range', value: state.range, size: '6', title: 'Range, e.g. 1h, 30m, 2d' });
  const end = el('input', { id: 'end', type: 'datetime-local', step: '1', title: 'End time (empty: now)' });
  if (state.end !== undefined) end.value = new Date(state.end).toISOString().slice(0, 19);
  const resolution = el('input', { id: 'resolution', size: '6', placeholder: 'Res. (s)', title: 'Resolution step in seconds (empty: automatic)' });
  if (state.resolution !== undefined) resolution.value = String(state.resolution);
  const stacked = checkbox('stacked', 'Stacked', state.stacked);
  const graphOnly = [el('label', {}, 'Range ', range), el('label', {}, 'Resolution ', resolution), stacked.label];
  const endText = el('span', {}, 'End (UTC) ');
  const endLabel = el('label', {}, endText, end);
  // The table evaluates at the end time too (Prometheus's "evaluation time"); range, resolution and stacking are the graph's.
  const graphControls = el('div', { class: 'row graph-controls' }, ...graphOnly.slice(0, 1), endLabel, ...graphOnly.slice(1));
  const meta = el('span', { class: 'meta', id: 'meta' });
  const messages = el('div', { id: 'messages' });
  const output = el('div', { class: 'output', id: 'output' });

  root.replaceChildren(
    editorBox,
    el('div', { class: 'row' }, runButton, dedup.label, partial.label, msr, meta),
    el('div', { class: 'tabs' }, tabGraph, tabTable),
    el('div', { class: 'panel' }, graphControls, messages, output),
  );

  const editor = createEditor(editorBox, apiOrigin, state.expr, () => void run());

  const read = (): void => {
    state.expr = editor.value();
    state.dedup = dedup.input.checked;
    state.partialResponse = partial.input.checked;
    state.maxSourceResolution = msr.value;
    state.range = parseDuration(range.value) !== undefined ? range.value.trim() : '1h';
    state.end = end.value === '' ? undefined : Date.parse(end.value + 'Z');
    const r = parseDuration(resolution.value);
    state.resolution = r !== undefined && r > 0 ? r : undefined;
    state.stacked = stacked.input.checked;
  };
  const showTab = (): void => {
    tabGraph.classList.toggle('active', state.tab === 'graph');
    tabTable.classList.toggle('active', state.tab === 'table');
    for (const c of graphOnly) c.style.display = state.tab === 'graph' ? '' : 'none';
    endText.textContent = state.tab === 'graph' ? 'End (UTC) ' : 'Evaluation time (UTC) ';
  };

  async function run(): Promise<void> {
    read();
    history.replaceState(null, '', `${location.pathname}?${urlFromState(state)}`);
    showTab();
    if (state.expr.trim() === '') return;
    inflight?.abort();
    const ctl = new AbortController();
    inflight = ctl;
    const params: Record<string, string> = {
      query: state.expr,
      dedup: String(state.dedup),
      partial_response: String(state.partialResponse),
      max_source_resolution: state.maxSourceResolution,
    };
    const endS = Math.round(state.end ?? Date.now()) / 1000;
    const rangeS = parseDuration(state.range) ?? 3600;
    const startS = endS - rangeS;
    const stepS = state.resolution ?? Math.max(1, Math.round(rangeS / 250));
    let res: ApiResponse<Result>;
    const t0 = performance.now();
    meta.textContent = 'Loading…';
    try {
      if (state.tab === 'graph') res = await apiCall<Result>(base, 'query_range', { ...params, start: String(startS), end: String(endS), step: String(stepS) }, ctl.signal);
      else res = await apiCall<Result>(base, 'query', { ...params, ...(state.end !== undefined ? { time: String(endS) } : {}) }, ctl.signal);
    } catch (err) {
      if (ctl.signal.aborted) return;
      res = { status: 'error', errorType: 'network', error: String(err) };
    }
    if (ctl !== inflight) return;
    const ms = Math.round(performance.now() - t0);
    messages.replaceChildren();
    if (res.status !== 'success' || res.data === undefined) {
      meta.textContent = `${ms} ms`;
      messages.append(el('div', { class: 'alert error' }, `${res.errorType ?? 'error'}: ${res.error ?? 'unknown error'}`));
    }
    for (const w of res.warnings ?? []) messages.append(el('div', { class: 'alert warning' }, `Warning: ${w}`));
    for (const i of res.infos ?? []) messages.append(el('div', { class: 'alert info' }, `Info: ${i}`));
    plot?.destroy();
    plot = undefined;
    output.replaceChildren();
    if (res.status !== 'success' || res.data === undefined) return;
    const d = res.data;
    const count = d.resultType === 'matrix' || d.resultType === 'vector' ? d.result.length : 1;
    meta.textContent = `Load time: ${ms} ms · Result series: ${count}${state.tab === 'graph' ? ` · Resolution: ${stepS}s` : ''}`;
    if (d.resultType === 'matrix' && state.tab === 'graph') {
      plot = drawGraph(output, d.result, startS, endS, stepS, state.stacked);
      return;
    }
    output.append(renderTable(d));
  }

  runButton.addEventListener('click', () => void run());
  for (const t of [tabGraph, tabTable]) {
    t.addEventListener('click', () => {
      state.tab = t.dataset['tab'] === 'table' ? 'table' : 'graph';
      void run();
    });
  }
  for (const c of [stacked.input, dedup.input, partial.input]) c.addEventListener('change', () => void run());
  msr.addEventListener('change', () => void run());
  for (const i of [range, end, resolution]) i.addEventListener('change', () => void run());
  showTab();
  if (state.expr !== '') void run();
  editor.view.focus();
}

/** NativeHistogram is a native histogram sample as the API encodes it. */
interface NativeHistogram {
  count: string;
  sum: string;
  buckets?: [number, string, string, string][];
}

/** histogramCell shows a native histogram's count and sum, its buckets as bars on demand. */
function histogramCell(h: NativeHistogram | undefined): HTMLElement {
  if (h === undefined) return el('span', {}, '');
  const cell = el('div', { class: 'histogram' }, el('div', {}, `count: ${h.count}  sum: ${h.sum}`));
  const buckets = h.buckets ?? [];
  if (buckets.length === 0) return cell;
  const max = Math.max(...buckets.map((b) => Number(b[3])));
  const list = el('table', { class: 'buckets' });
  for (const [rule, lo, hi, n] of buckets) {
    // Boundary rule: 0 (lo,hi], 1 [lo,hi), 2 (lo,hi), 3 [lo,hi].
    const range = `${rule === 1 || rule === 3 ? '[' : '('}${lo}, ${hi}${rule === 0 || rule === 3 ? ']' : ')'}`;
    const bar = el('div', { class: 'bar' });
    bar.style.width = `${max > 0 ? Math.round((120 * Number(n)) / max) : 0}px`;
    list.append(el('tr', {}, el('td', {}, range), el('td', {}, n), el('td', { class: 'bar-cell' }, bar)));
  }
  cell.append(el('details', {}, el('summary', {}, `${buckets.length} buckets`), list));
  return cell;
}

function renderTable(d: Result): HTMLElement {
  const table = el('table', { class: 'results', id: 'result-table' });
  const body = el('tbody');
  table.append(body);
  const row = (left: string, right: string | HTMLElement) => body.append(el('tr', {}, el('td', { class: 'mono' }, left), el('td', { class: 'mono value' }, right)));
  if (d.resultType === 'vector') {
    if (d.result.length === 0) return el('p', { class: 'empty' }, 'Empty query result.');
    for (const s of d.result.slice(0, maxTableRows)) row(metricString(s.metric), s.value !== undefined ? s.value[1] : histogramCell(s.histogram?.[1] as NativeHistogram | undefined));
  } else if (d.resultType === 'matrix') {
    if (d.result.length === 0) return el('p', { class: 'empty' }, 'Empty query result.');
    for (const s of d.result.slice(0, maxTableRows)) {
      const floats = (s.values ?? []).map(([t, v]) => `${v} @${t}`);
      const hists = ((s.histograms ?? []) as [number, NativeHistogram][]).map(([t, h]) => `count: ${h.count} sum: ${h.sum} @${t}`);
      row(metricString(s.metric), [...floats, ...hists].join('\n'));
    }
  } else {
    row(d.resultType, d.result[1]);
  }
  if (d.resultType !== 'scalar' && d.resultType !== 'string' && d.result.length > maxTableRows) {
    return el('div', {}, el('p', { class: 'empty' }, `Showing ${maxTableRows} of ${d.result.length} series.`), table);
  }
  return table;
}

function checkbox(id: string, text: string, checked: boolean): { label: HTMLLabelElement; input: HTMLInputElement } {
  const input = el('input', { type: 'checkbox', id });
  input.checked = checked;
  return { label: el('label', { class: 'check' }, input, ` ${text}`), input };
}
