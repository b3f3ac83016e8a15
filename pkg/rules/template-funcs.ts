/** GO_BUILTINS are the functions Go's text/template always defines. */
export const GO_BUILTINS: readonly string[] = [
  'and', 'call', 'html', 'index', 'slice', 'js', 'len', 'not', 'or', 'print', 'printf', 'println', 'urlquery',
  'eq', 'ge', 'gt', 'le', 'lt', 'ne',
];

/** PROMETHEUS_TEMPLATE_FUNCS are the functions Prometheus adds for alert and console templates. */
export const PROMETHEUS_TEMPLATE_FUNCS: readonly string[] = [
  'query', 'first', 'label', 'value', 'strvalue', 'args', 'reReplaceAll', 'safeHtml', 'match', 'title', 'toUpper',
  'toLower', 'graphLink', 'tableLink', 'sortByLabel', 'humanize', 'humanize1024', 'humanizeDuration',
  'humanizePercentage', 'humanizeTimestamp', 'toTime', 'toDuration', 'now', 'pathPrefix', 'externalURL',
  'parseDuration', 'stripPort', 'stripDomain', 'urlQueryEscape',
];

/** ALERT_TEMPLATE_FUNCS is every function name an alert template may call. */
export const ALERT_TEMPLATE_FUNCS: ReadonlySet<string> = new Set([...GO_BUILTINS, ...PROMETHEUS_TEMPLATE_FUNCS]);

/** ALERT_TEMPLATE_DEFS is the prefix Prometheus puts before every alert label/annotation template. */
export const ALERT_TEMPLATE_DEFS =
  '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';
