import { Labels } from '../labels/index.js';
import type { InfoResponse, LabelNamesRequest, LabelNamesResponse, LabelValuesRequest, LabelValuesResponse, SeriesRequest } from '../storepb/index.js';
import { GrpcCode, StoreError, matchExternalLabels, toMatchers, type SeriesSink, type StoreServer } from '../store/index.js';

/**
 * SelectorLabelsStore is the querier's StoreAPI with --selector-label (Thanos `query
 * --selector-label`): Info advertises each label set of the endpoints extended with the selector
 * labels (a selector label replaces a same-named one), or the selector labels alone when the
 * endpoints advertise none, so a parent querier can select this one by them; min/max time are the
 * inner store's. A request whose matchers on selector labels do not match them gets an empty
 * answer; those matchers are dropped before the request goes on (the endpoints' series need not
 * carry the selector labels). A series request with no other matcher is InvalidArgument.
 */
export class SelectorLabelsStore implements StoreServer {
  readonly #inner: StoreServer;
  readonly #selector: Labels;

  constructor(inner: StoreServer, selectorLabels: Labels) {
    this.#inner = inner;
    this.#selector = selectorLabels;
  }

  async info(signal?: AbortSignal): Promise<InfoResponse> {
    const r = await this.#inner.info(signal);
    return { ...r, labelSets: extendLabelSets(r.labelSets, this.#selector) };
  }

  async series(req: SeriesRequest, sink: SeriesSink, signal: AbortSignal): Promise<void> {
    const rest = matchExternalLabels(toMatchers(req.matchers), this.#selector);
    if (rest === undefined) return;
    if (rest.length === 0) throw new StoreError(GrpcCode.InvalidArgument, 'no matchers specified (excluding selector labels)');
    return this.#inner.series({ ...req, matchers: rest }, sink, signal);
  }

  async labelNames(req: LabelNamesRequest, signal: AbortSignal): Promise<LabelNamesResponse> {
    const rest = matchExternalLabels(toMatchers(req.matchers), this.#selector);
    if (rest === undefined) return { names: [], warnings: [] };
    return this.#inner.labelNames({ ...req, matchers: rest }, signal);
  }

  async labelValues(req: LabelValuesRequest, signal: AbortSignal): Promise<LabelValuesResponse> {
    const rest = matchExternalLabels(toMatchers(req.matchers), this.#selector);
    if (rest === undefined) return { values: [], warnings: [] };
    return this.#inner.labelValues({ ...req, matchers: rest }, signal);
  }
}

/**
 * extendLabelSets is what a Thanos querier with selector labels advertises: each set with the
 * selector labels set on it (replacing same-named labels), deduplicated and sorted; the selector
 * labels alone when there is no set.
 */
function extendLabelSets(sets: readonly Labels[], selector: Labels): Labels[] {
  if (selector.isEmpty()) return [...sets];
  const out = new Map<string, Labels>();
  for (const ls of sets) {
    const b = ls.builder();
    selector.forEach((n, v) => b.set(n, v));
    const e = b.labels();
    out.set(e.key(), e);
  }
  if (out.size === 0) return [selector];
  return [...out.values()].sort(Labels.compare);
}
