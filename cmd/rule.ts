import { mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { UsageError, flagBool, flagList, flagString, type Command, type RunContext } from './command.js';
import { grpcClientTlsFlags, grpcClientTlsFromFlags, gracePeriodFlags, grpcServerCredentialsFromFlags, grpcServerConnectionFlags, grpcServerTlsFlags, requestLoggingIgnoredFlags, experimentalPromqlIgnoredFlags, hashFuncFromFlags, shipperFlags, httpConfigFlags, globalFlags, loggerFromFlags, webConfigFromFlags } from './common-flags.js';
import { durationFlag, fileOrInlineFlag, intFlag, splitHostPort } from './flag-values.js';
import { shutdownOnSignals } from './shutdown-signal.js';
import { parseLabelFlags } from './tools-bucket.js';
import { closeHttp, createHttpServer } from '../pkg/api/index.js';
import { BlockErrorCode, Shipper, parseRelabelConfigs, type Logger, type RelabelConfig } from '../pkg/block/index.js';
import { isTesseraError } from '../pkg/errors/index.js';
import { Labels } from '../pkg/labels/index.js';
import { newBucketFromConfig, readObjstoreFlags } from '../pkg/objstore/index.js';
import { EndpointDiscovery, EndpointSet, parseEndpointAddress } from '../pkg/querier/index.js';
import { Engine } from '../pkg/promql/index.js';
import { createStoreQueryable } from '../pkg/query/index.js';
import {
  DEFAULT_ALERT_QUERY_TEMPLATE,
  Ruler,
  alertQueryTemplate,
  alertmanagerConfigFromUrl,
  chunkForStateLookup,
  httpClient,
  parseAlertmanagersConfig,
  parseQueryConfig,
  registerTsdbMetrics,
  rulerHttpApp,
  watchFiles,
  type AlertmanagerConfig,
  type HttpClientConfig,
  type HttpEndpointsConfig,
  type PartialResponseStrategy,
  type QueryConfig,
} from '../pkg/ruler/index.js';
import { GrpcStoreClient, LocalStore, StoreGrpcServer, snapshotRulesServer } from '../pkg/store/index.js';
import { engineQueryFunc, snapshotRuleGroups, type HttpTarget, type RuleQueryFunc } from '../pkg/rules/index.js';
import { Tsdb } from '../pkg/tsdb/index.js';

const MAX_INT64 = 9223372036854775807;

/** ruleCommand is `tessera rule`: the Thanos ruler. */
export const ruleCommand: Command = {
  name: 'rule',
  help: 'Ruler: evaluates Prometheus recording and alerting rules against query APIs, stores the results, serves them over the StoreAPI and sends alerts to Alertmanager.',
  flags: {
    'rule-file': { type: 'string', multiple: true, default: ['rules/'], help: 'Rule files to use (repeatable; Go globs such as rules/*.yaml).' },
    query: { type: 'string', multiple: true, help: 'Addresses of query API servers (repeatable): host:port or a URL; dns+ and dnssrv+ prefixes look them up in DNS.' },
    'query.sd-files': { type: 'string', multiple: true, help: 'Paths to file SD files (YAML or JSON) listing query API servers.' },
    'query.config-file': { type: 'string', default: '', help: 'Path to a YAML file with the query API servers (Thanos\'s format: a list of {http_config, static_configs, file_sd_configs, scheme, path_prefix}); replaces --query and --query.sd-files.' },
    'query.config': { type: 'string', default: '', help: 'Query API servers configuration in YAML (alternative to --query.config-file).' },
    'query.sd-interval': { type: 'string', default: '5m', help: 'Refresh interval to re-read file SD files.' },
    'query.sd-dns-interval': { type: 'string', default: '30s', help: 'Interval between DNS resolutions of query API servers.' },
    'query.http-method': { type: 'string', default: 'POST', help: 'HTTP method for instant queries to the query API servers: POST or GET.' },
    'query.default-step': { type: 'string', default: '1s', help: 'Default range query step. Accepted (and checked) for compatibility with Thanos, which uses it only in its stateless mode and to restore alert state with range queries; this ruler restores alerts from its own TSDB.' },
    endpoint: { type: 'string', multiple: true, help: 'StoreAPI endpoints (host:port, dns+, dnssrv+) to evaluate rules on with the embedded PromQL engine instead of --query; replicas deduplicated on --query.replica-label.' },
    'query.replica-label': { type: 'string', multiple: true, help: 'With --endpoint: labels treated as replica indicators for deduplication (repeatable).' },
    'endpoint.info-timeout': { type: 'string', default: '5s', help: 'With --endpoint: timeout of the Info call to each endpoint.' },
    'alertmanagers.url': { type: 'string', multiple: true, help: 'Alertmanager URLs to push alerts to (repeatable), e.g. http://alertmanager:9093 (path = prefix before /api/v2/alerts); dns+ and dnssrv+ prefixes look hosts up in DNS.' },
    'alertmanagers.config-file': { type: 'string', default: '', help: 'Path to a YAML file with the Alertmanagers to send to (Thanos\'s format: alertmanagers: [{http_config, static_configs, file_sd_configs, scheme, path_prefix, timeout, api_version}]); replaces --alertmanagers.url.' },
    'alertmanagers.config': { type: 'string', default: '', help: 'Alertmanagers configuration in YAML (alternative to --alertmanagers.config-file).' },
    'alertmanagers.send-timeout': { type: 'string', default: '10s', help: 'Timeout of each request sending alerts to an Alertmanager.' },
    'alertmanagers.sd-dns-interval': { type: 'string', default: '30s', help: 'Interval between DNS resolutions of Alertmanager hosts.' },
    label: { type: 'string', multiple: true, help: 'Labels of this ruler (repeatable, name="value"): added to the StoreAPI series and uploaded blocks and set on sent alerts; e.g. replica="r1" for an HA pair.' },
    'alert.label-drop': { type: 'string', multiple: true, help: 'Labels removed from alerts before they are sent (repeatable), e.g. the replica label so Alertmanager deduplicates an HA pair.' },
    'alert.relabel-config-file': { type: 'string', default: '', help: 'Path to a YAML file with relabel configs applied to alerts before they are sent (after --label and --alert.label-drop); an alert relabelled away is not sent.' },
    'alert.relabel-config': { type: 'string', default: '', help: 'Alert relabel configs in YAML (alternative to --alert.relabel-config-file).' },
    'alert.query-url': { type: 'string', default: '', help: 'Base URL of alerts\' generatorURL (a querier\'s UI), also $externalURL in templates. Default: http://<hostname>:<http port>.' },
    'alert.query-template': { type: 'string', default: DEFAULT_ALERT_QUERY_TEMPLATE, help: 'Template of the rest of alerts\' generatorURL after --alert.query-url; {{.Expr}} is the query-escaped expression.' },
    'eval-interval': { type: 'string', default: '1m', help: 'Default interval of rule groups without one.' },
    'rule-query-offset': { type: 'string', default: '0s', help: 'Default query_offset of rule groups: rules query at evaluation time minus this.' },
    'for-grace-period': { type: 'string', default: '10m', help: 'Minimum duration between alert and restored "for" state. Only for alerts with a for of at least this.' },
    'for-outage-tolerance': { type: 'string', default: '1h', help: 'Max time to tolerate the ruler being down to still restore the "for" state of alerts.' },
    'resend-delay': { type: 'string', default: '1m', help: 'Minimum time to wait before resending an alert to Alertmanager.' },
    'data-dir': { type: 'string', default: 'data/', help: 'Data directory of the ruler\'s TSDB.' },
    'objstore.config-file': { type: 'string', default: '', help: 'Path to YAML object store configuration; when set, finished blocks are uploaded.' },
    'objstore.config': { type: 'string', default: '', help: 'Object store configuration in YAML (alternative to --objstore.config-file).' },
    'tsdb.block-duration': { type: 'string', default: '2h', help: 'Block duration of the ruler\'s TSDB (blocks are cut and uploaded at this size).' },
    'tsdb.retention': { type: 'string', default: '48h', help: 'How long to keep blocks in the local TSDB (0 keeps them all).' },
    'shipper.sync-interval': { type: 'string', default: '30s', help: 'How often to look for new local blocks to upload.' },
    ...shipperFlags,
    'tsdb.no-lockfile': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored: the TSDB directory is not locked.' },
    'tsdb.wal-compression': { type: 'boolean', default: true, help: 'Accepted for Thanos compatibility and ignored: the WAL is not compressed.' },
    'tsdb.enable-native-histograms': { type: 'boolean', default: true, help: 'Accepted for Thanos compatibility and ignored: native histograms are always stored.' },
    'rule-concurrent-evaluation': { type: 'string', default: '1', help: 'Accepted for Thanos compatibility and ignored: the rules of a group are evaluated one after another.' },
    'grpc-address': { type: 'string', default: '0.0.0.0:10901', help: 'Listen host:port for the StoreAPI gRPC endpoint (the rules\' results).' },
    'http-address': { type: 'string', default: '0.0.0.0:10902', help: 'Listen host:port for HTTP: /api/v1/rules, /api/v1/alerts, /metrics, /-/ready, /-/healthy, /-/reload.' },
    'web.route-prefix': { type: 'string', default: '', help: 'Prefix for API and UI endpoints. Defaults to the value of --web.external-prefix.' },
    'web.external-prefix': { type: 'string', default: '', help: 'Static prefix for all HTML links and redirect URLs in the UI (behind a path-stripping reverse proxy).' },
    'web.prefix-header': { type: 'string', default: '', help: 'Accepted for Thanos compatibility and ignored; the UI uses --web.external-prefix.' },
    'web.disable-cors': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored; no CORS headers are set.' },
    ...experimentalPromqlIgnoredFlags,
    ...requestLoggingIgnoredFlags,
    ...grpcServerTlsFlags,
    ...grpcServerConnectionFlags,
    ...grpcClientTlsFlags,
    ...httpConfigFlags,
    ...gracePeriodFlags,
    ...globalFlags,
  },
  run: runRule,
};

function positiveDuration(ctx: RunContext, name: string): number {
  const ms = durationFlag(ctx, name);
  if (ms <= 0) throw new UsageError(`--${name}: must be greater than 0`);
  return ms;
}

/** queryAddresses splits --query into static URLs and discovery addresses (host:port, dns+…). */
function queryAddresses(values: readonly string[]): { urls: string[]; discover: string[] } {
  const urls: string[] = [];
  const discover: string[] = [];
  for (const v of values) {
    const m = /^(dns\+|dnssrv\+|dnssrvnoa\+)?(https?:\/\/)?(.*)$/.exec(v.trim())!;
    if (m[2] !== undefined && m[1] === undefined) urls.push(v.trim());
    else discover.push(`${m[1] ?? ''}${m[3]!.replace(/\/+$/, '')}`);
  }
  return { urls, discover };
}

async function runRule(ctx: RunContext): Promise<number> {
  const logger = loggerFromFlags(ctx, 'rule');
  const ruleFiles = flagList(ctx, 'rule-file');
  const evalInterval = positiveDuration(ctx, 'eval-interval');
  const queryOffset = durationFlag(ctx, 'rule-query-offset');
  const forGrace = durationFlag(ctx, 'for-grace-period');
  const outageTolerance = durationFlag(ctx, 'for-outage-tolerance');
  const resendDelay = durationFlag(ctx, 'resend-delay');
  const sendTimeout = positiveDuration(ctx, 'alertmanagers.send-timeout');
  const blockDuration = positiveDuration(ctx, 'tsdb.block-duration');
  positiveDuration(ctx, 'query.default-step');
  const sdInterval = positiveDuration(ctx, 'query.sd-interval');
  const dnsInterval = positiveDuration(ctx, 'query.sd-dns-interval');
  const amDnsInterval = positiveDuration(ctx, 'alertmanagers.sd-dns-interval');
  const grpcGrace = durationFlag(ctx, 'grpc-grace-period');
  const httpGrace = durationFlag(ctx, 'http-grace-period');
  const maxConnectionAgeMs = durationFlag(ctx, 'grpc-server-max-connection-age');
  const externalPrefix = flagString(ctx, 'web.external-prefix');
  const routePrefix = flagString(ctx, 'web.route-prefix') || externalPrefix;
  const hashFunc = hashFuncFromFlags(ctx);
  const fileConcurrency = intFlag(ctx, 'shipper.upload-concurrency');
  if (fileConcurrency < 0) throw new UsageError('--shipper.upload-concurrency: must be 0 or more');
  const metaFileName = flagString(ctx, 'shipper.meta-file-name');
  if (metaFileName === '') throw new UsageError('--shipper.meta-file-name: must not be empty');
  const uploadCompacted = flagBool(ctx, 'shipper.upload-compacted');
  const method = flagString(ctx, 'query.http-method').toUpperCase();
  if (method !== 'POST' && method !== 'GET') throw new UsageError(`--query.http-method: "${flagString(ctx, 'query.http-method')}" is neither POST nor GET`);
  const grpcAddr = flagString(ctx, 'grpc-address');
  const httpAddr = splitHostPort(flagString(ctx, 'http-address'), 'http-address');
  splitHostPort(grpcAddr, 'grpc-address');
  const labels = Labels.fromRecord(parseLabelFlags(flagList(ctx, 'label')));
  if (labels.isEmpty() && (flagString(ctx, 'objstore.config-file') !== '' || flagString(ctx, 'objstore.config') !== '')) {
    throw new UsageError('--label: uploaded blocks need at least one label identifying this ruler (e.g. --label=replica="r1")');
  }
  const labelDrop = flagList(ctx, 'alert.label-drop');
  const endpoints = flagList(ctx, 'endpoint');
  const replicaLabels = flagList(ctx, 'query.replica-label');
  const infoTimeout = positiveDuration(ctx, 'endpoint.info-timeout');
  const query = queryAddresses(flagList(ctx, 'query'));
  for (const a of query.discover) flagCheck('query', () => parseEndpointAddress(a));
  for (const a of endpoints) flagCheck('endpoint', () => parseEndpointAddress(a));
  const sdFiles = flagList(ctx, 'query.sd-files');
  const queryConfigFile = flagString(ctx, 'query.config-file');
  const queryConfigInline = flagString(ctx, 'query.config');
  if (queryConfigFile !== '' && queryConfigInline !== '') throw new UsageError('both --query.config-file and --query.config are set; use one');
  const hasQueryConfig = queryConfigFile !== '' || queryConfigInline !== '';
  if (hasQueryConfig && endpoints.length + query.urls.length + query.discover.length + sdFiles.length > 0) throw new UsageError('--query/--query.sd-files/--endpoint and --query.config* parameters cannot be defined at the same time');
  if (endpoints.length > 0 && query.urls.length + query.discover.length + sdFiles.length > 0) throw new UsageError('--endpoint and --query (or --query.sd-files) are mutually exclusive');
  if (!hasQueryConfig && endpoints.length + query.urls.length + query.discover.length + sdFiles.length === 0) throw new UsageError('no --query parameter was given (nor --query.config, --query.sd-files or --endpoint)');
  const alertQueryTemplateText = flagString(ctx, 'alert.query-template');
  const retention = durationFlag(ctx, 'tsdb.retention');
  const shipInterval = positiveDuration(ctx, 'shipper.sync-interval');

  let bucketYaml = '';
  let alertRelabel: RelabelConfig[] = [];
  let amConfigs: AlertmanagerConfig[];
  let queryConfigs: QueryConfig[] = [];
  let alertQueryLink: (expr: string) => Promise<string>;
  let grpcCredentials: Awaited<ReturnType<typeof grpcServerCredentialsFromFlags>>;
  let webConfig: Awaited<ReturnType<typeof webConfigFromFlags>>;
  let grpcClientTls: Awaited<ReturnType<typeof grpcClientTlsFromFlags>>;
  try {
    const amFile = flagString(ctx, 'alertmanagers.config-file');
    const amInline = flagString(ctx, 'alertmanagers.config');
    if (amFile !== '' && amInline !== '') throw new UsageError('both --alertmanagers.config-file and --alertmanagers.config are set; use one');
    if (amFile !== '' || amInline !== '') {
      if (flagList(ctx, 'alertmanagers.url').length > 0) throw new UsageError('--alertmanagers.url and --alertmanagers.config* parameters cannot be defined at the same time');
      amConfigs = parseAlertmanagersConfig(amFile !== '' ? await readFile(amFile, 'utf8') : amInline, amFile !== '' ? amFile : '<--alertmanagers.config>');
    } else {
      amConfigs = flagList(ctx, 'alertmanagers.url').map((u) => flagCheck('alertmanagers.url', () => alertmanagerConfigFromUrl(u, sendTimeout)));
    }
    if (hasQueryConfig) queryConfigs = parseQueryConfig(queryConfigFile !== '' ? await readFile(queryConfigFile, 'utf8') : queryConfigInline, queryConfigFile !== '' ? queryConfigFile : '<--query.config>');
    alertQueryLink = await alertQueryTemplate(alertQueryTemplateText);
    alertRelabel = parseRelabelConfigs(await fileOrInlineFlag(ctx, 'alert.relabel-config', BlockErrorCode.RelabelConfig));
    bucketYaml = await readObjstoreFlags(flagString(ctx, 'objstore.config-file'), flagString(ctx, 'objstore.config'), false);
    grpcCredentials = await grpcServerCredentialsFromFlags(ctx);
    grpcClientTls = await grpcClientTlsFromFlags(ctx);
    webConfig = await webConfigFromFlags(ctx);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (isTesseraError(err) || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      logger.error('read configuration', { err });
      return 1;
    }
    throw err;
  }
  if (amConfigs.length === 0) logger.warn('no Alertmanager configured: alerts are evaluated and recorded but not sent');

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const onDiscoveryError = (err: Error): void => logger.warn('discovery', { err });
  const queryDiscovery =
    query.discover.length + sdFiles.length > 0
      ? flagCheck('query', () => new EndpointDiscovery({ endpoints: query.discover, sdFiles, sdFileIntervalMs: sdInterval, dnsIntervalMs: dnsInterval, onError: onDiscoveryError }))
      : undefined;
  // Alertmanagers and --query.config endpoints: per config, static and DNS addresses and file SD,
  // each reached with the config's HTTP client (authentication, TLS, proxy).
  let amGroups: HttpTargetGroup[];
  let queryGroups: HttpTargetGroup[];
  try {
    const amFlag = flagList(ctx, 'alertmanagers.url').length > 0 ? 'alertmanagers.url' : 'alertmanagers.config';
    amGroups = amConfigs.map((c) => httpTargetGroup(c.endpoints, c.http, c.timeoutMs, amDnsInterval, onDiscoveryError, amFlag));
    queryGroups = queryConfigs.map((c) => httpTargetGroup(c.endpoints, c.http, undefined, dnsInterval, onDiscoveryError, 'query.config'));
  } catch (err) {
    if (err instanceof UsageError || !isTesseraError(err)) throw err;
    logger.error('read configuration', { err });
    return 1;
  }
  const discoveries = [...amGroups, ...queryGroups].flatMap((g) => g.discoveries);
  const alertmanagers = (): HttpTarget[] => amGroups.flatMap((g) => g.targets());
  const queryEndpoints = (): (string | HttpTarget)[] => [...query.urls, ...(queryDiscovery?.addresses() ?? []), ...queryGroups.flatMap((g) => g.targets())];
  // --endpoint: the embedded engine over StoreAPI endpoints, replicas deduplicated (as `tessera query` does).
  let storeEndpoints: { discovery: EndpointDiscovery; set: EndpointSet } | undefined;
  let queryFunc: ((strategy: PartialResponseStrategy) => RuleQueryFunc) | undefined;
  if (endpoints.length > 0) {
    const discovery = flagCheck('endpoint', () => new EndpointDiscovery({ endpoints, dnsIntervalMs: dnsInterval, onError: onDiscoveryError }));
    const set = new EndpointSet({
      addresses: () => discovery.addresses(),
      newClient: (addr) => new GrpcStoreClient(addr, grpcClientTls !== undefined ? { credentials: grpcClientTls.credentials, serverName: grpcClientTls.serverName } : {}),
      infoTimeoutMs: infoTimeout,
      onChange: (address, healthy, err) => logger[healthy ? 'info' : 'warn'](healthy ? 'endpoint healthy' : 'endpoint unhealthy', { address, ...(err ? { err: err.message } : {}) }),
    });
    storeEndpoints = { discovery, set };
    const engine = new Engine();
    queryFunc = (strategy) => engineQueryFunc(engine, createStoreQueryable({ stores: () => set.targets(), replicaLabels, partialResponse: strategy === 'warn' }));
  }

  const dataDir = flagString(ctx, 'data-dir');
  await mkdir(dataDir, { recursive: true });
  // The ruler's storage: a head with its write-ahead log in --data-dir (replayed here after a crash).
  let head: Tsdb;
  try {
    head = await Tsdb.open(dataDir, {
      blockDuration,
      thanos: { labels, source: 'ruler' },
      ...(retention > 0 ? { retention } : {}),
      onCompactError: (err) => logger.error('cutting a block from the head', { err }),
    });
  } catch (err) {
    logger.error('opening the TSDB', { dir: dataDir, err });
    return 1;
  }
  registerTsdbMetrics(registry, () => head.stats());
  logger.info('TSDB opened', { dir: dataDir, series: head.replay.series, samples: head.replay.samples });
  const alertQueryURL = (flagString(ctx, 'alert.query-url') || `http://${hostname()}:${httpAddr.port}`).replace(/\/+$/, '');
  const ruler = new Ruler({
    ruleFiles,
    queryEndpoints,
    queryHttpMethod: method,
    ...(queryFunc === undefined ? {} : { queryFunc }),
    appendable: head,
    forState: chunkForStateLookup(head),
    alertmanagers,
    alertmanagerTimeout: sendTimeout,
    labels,
    alertLabelDrop: labelDrop,
    alertRelabel,
    alertQueryURL,
    alertQueryLink,
    evalInterval,
    queryOffset,
    resendDelay,
    forGracePeriod: forGrace,
    forOutageTolerance: outageTolerance,
    registry,
    logger,
  });

  // SIGHUP reloads the rule files (also while starting: Node's default would end the process)
  const onHup = (): void => {
    if (!ruler.ready()) return;
    logger.info('reloading rule files', { signal: 'SIGHUP' });
    void ruler.reload();
  };
  process.on('SIGHUP', onHup);
  await queryDiscovery?.start();
  if (storeEndpoints !== undefined) {
    await storeEndpoints.discovery.start();
    await storeEndpoints.set.start(5000);
  }
  await Promise.all(discoveries.map((d) => d.start()));
  // File SD files are also re-read when they change, as Prometheus's file SD does between refreshes.
  const fileWatches = [...amGroups, ...queryGroups].flatMap((g) => g.fileWatches);
  if (queryDiscovery !== undefined && sdFiles.length > 0) fileWatches.push({ d: queryDiscovery, files: sdFiles });
  const stopWatching = fileWatches.map(({ d, files }) => watchFiles(files, () => void d.refreshFiles().then(() => d.refreshDns())));
  try {
    await ruler.start();
  } catch (err) {
    process.off('SIGHUP', onHup);
    queryDiscovery?.stop();
    storeEndpoints?.discovery.stop();
    storeEndpoints?.set.stop();
    for (const d of discoveries) d.stop();
    for (const stop of stopWatching) stop();
    await head.close();
    if (!isTesseraError(err)) throw err;
    logger.error('loading rule files', { err: err.message });
    return 1;
  }

  let grpcListening = false;
  const store = new LocalStore({
    queryable: head,
    externalLabels: labels,
    componentType: 'rule',
    // Thanos's ruler advertises its TSDB's oldest sample and MaxInt64 (rule results are always fresh).
    timeRange: () => {
      const r = head.timeRange();
      return { minTime: r.minTime <= r.maxTime ? r.minTime : Date.now(), maxTime: MAX_INT64 };
    },
  });
  const ac = new AbortController();
  let shipping: Promise<void> | undefined;
  if (bucketYaml.trim() !== '') {
    const bucket = newBucketFromConfig(bucketYaml, { component: 'rule', registry });
    const shipper = new Shipper({ bucket, dir: dataDir, stateFile: join(dataDir, metaFileName), externalLabels: () => labels, source: 'ruler', uploadCompacted, fileConcurrency, hashFunc, registry, logger });
    shipping = shipper.run(shipInterval, ac.signal).finally(() => bucket.close());
    logger.info('shipping blocks', { dir: dataDir, bucket: bucket.name() });
  } else {
    logger.info('no object storage configured; blocks are not uploaded');
  }
  const grpcServer = new StoreGrpcServer(store, { credentials: grpcCredentials, maxConnectionAgeMs, rules: snapshotRulesServer(() => snapshotRuleGroups(ruler.groups()), { externalLabels: labels }), onError: (err, action) => logger.error('unexpected error in a gRPC call', { action, err }) });
  const app = rulerHttpApp(ruler, { registry, ready: () => grpcListening, onError: (err) => logger.error('HTTP request', { err }), routePrefix, externalPrefix });
  const httpServer = createHttpServer(app, webConfig);
  const shutdown = shutdownOnSignals(logger);
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(httpAddr.port, httpAddr.host, () => resolve());
    });
    logger.info('listening for HTTP', { address: `${httpAddr.host}:${httpAddr.port}` });
    const port = await grpcServer.listen(grpcAddr);
    grpcListening = true;
    logger.info('listening for StoreAPI gRPC', { address: grpcAddr, port });
    logger.info('ruler started', { query: queryEndpoints().map((e) => (typeof e === 'string' ? e : e.url)).join(','), alertmanagers: alertmanagers().map((t) => t.url).join(','), labels: labels.toString() });
    await shutdown.stopped();
    return 0;
  } catch (err) {
    logError(logger, err);
    return 1;
  } finally {
    shutdown.dispose();
    process.off('SIGHUP', onHup);
    await ruler.stop();
    ac.abort();
    await shipping;
    queryDiscovery?.stop();
    storeEndpoints?.discovery.stop();
    storeEndpoints?.set.stop();
    for (const d of discoveries) d.stop();
    for (const stop of stopWatching) stop();
    await Promise.all([grpcServer.stop(grpcGrace), closeHttp(httpServer, httpGrace)]);
    await head.close();
  }
}


/** HttpTargetGroup is one Alertmanager or query config at run time: its discoveries and current targets. */
interface HttpTargetGroup {
  readonly discoveries: EndpointDiscovery[];
  /** fileWatches pair file SD discoveries with their files (watched for changes between refreshes). */
  readonly fileWatches: { readonly d: EndpointDiscovery; readonly files: readonly string[] }[];
  targets(): HttpTarget[];
}

/**
 * httpTargetGroup discovers a config's addresses (static_configs with dns+/dnssrv+, file_sd_configs
 * re-read every refresh_interval) and makes them targets `scheme://address/path_prefix` reached
 * with the config's HTTP client.
 */
function httpTargetGroup(endpoints: HttpEndpointsConfig, http: HttpClientConfig, timeoutMs: number | undefined, dnsIntervalMs: number, onError: (err: Error) => void, flag: string): HttpTargetGroup {
  const request = httpClient(http);
  const discoveries: EndpointDiscovery[] = [];
  if (endpoints.staticAddresses.length > 0) discoveries.push(flagCheck(flag, () => new EndpointDiscovery({ endpoints: endpoints.staticAddresses, dnsIntervalMs, onError })));
  const fileWatches: HttpTargetGroup['fileWatches'] = [];
  for (const f of endpoints.fileSd) {
    const d = new EndpointDiscovery({ endpoints: [], sdFiles: f.files, sdFileIntervalMs: f.refreshIntervalMs, dnsIntervalMs, onError });
    discoveries.push(d);
    fileWatches.push({ d, files: f.files });
  }
  return {
    discoveries,
    fileWatches,
    targets: () => [...new Set(discoveries.flatMap((d) => d.addresses()))].map((a) => ({ url: `${endpoints.scheme}://${a}${endpoints.pathPrefix}`, request, ...(timeoutMs === undefined ? {} : { timeoutMs }) })),
  };
}

/** flagCheck turns a bad address in a flag (TesseraError from discovery) into a usage error naming the flag. */
function flagCheck<T>(flag: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (isTesseraError(err)) throw new UsageError(err.message.startsWith(`--${flag}`) ? err.message : `--${flag}: ${err.message}`);
    throw err;
  }
}

function logError(logger: Logger, err: unknown): void {
  logger.error('ruler', { err });
}
