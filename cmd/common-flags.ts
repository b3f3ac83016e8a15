import { loadWebConfig, type WebConfig } from '../pkg/api/index.js';
import { isLogFormat, isLogLevel, newLogger, type HashFunc, type Logger } from '../pkg/block/index.js';
import { grpcClientCredentials, grpcServerCredentials, type GrpcClientTls, type GrpcClientTlsOptions } from '../pkg/store/index.js';
import { UsageError, flagBool, flagString, type FlagSpec, type RunContext } from './command.js';

/** logFlags are every component's logging flags (Thanos's names and defaults). */
export const logFlags: Readonly<Record<string, FlagSpec>> = {
  'log.level': { type: 'string', default: 'info', help: 'Log filtering level: debug, info, warn, error.' },
  'log.format': { type: 'string', default: 'logfmt', help: 'Log format to use: logfmt or json.' },
};

/**
 * ignoredGlobalFlags are Thanos's global flags of features Tessera does not have (tracing, Go's
 * memory limit): accepted on every command so that Thanos command lines start, and ignored.
 */
export const ignoredGlobalFlags: Readonly<Record<string, FlagSpec>> = {
  'tracing.config-file': { type: 'string', help: 'Accepted for Thanos compatibility and ignored: Tessera does not export traces.' },
  'tracing.config': { type: 'string', help: 'Accepted for Thanos compatibility and ignored: Tessera does not export traces.' },
  'enable-auto-gomemlimit': { type: 'boolean', default: false, help: 'Accepted for Thanos compatibility and ignored (a Go runtime setting; size the Node.js heap with NODE_OPTIONS=--max-old-space-size).' },
  'auto-gomemlimit.ratio': { type: 'string', default: '0.9', help: 'Accepted for Thanos compatibility and ignored (see --enable-auto-gomemlimit).' },
};

/** globalFlags are the flags Thanos has on every command: logging, and the ignored ones. */
export const globalFlags: Readonly<Record<string, FlagSpec>> = { ...logFlags, ...ignoredGlobalFlags };

/** loggerFromFlags builds the component's logger (on stderr) from --log.level and --log.format. */
export function loggerFromFlags(ctx: RunContext, component: string): Logger {
  const level = flagString(ctx, 'log.level') || 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log.level: unknown level "${level}" (debug, info, warn, error)`);
  const format = flagString(ctx, 'log.format') || 'logfmt';
  if (!isLogFormat(format)) throw new UsageError(`--log.format: unknown format "${format}" (logfmt, json)`);
  return newLogger(ctx.stderr, { level, format, base: { component } });
}

/** objstoreFlags name the bucket of the components and tools that work on one (Thanos's names). */
export const objstoreFlags: Readonly<Record<string, FlagSpec>> = {
  'objstore.config-file': { type: 'string', help: 'Path to YAML file that contains object store configuration.' },
  'objstore.config': { type: 'string', help: 'Object store configuration in YAML (alternative to --objstore.config-file).' },
};

/** bucketWebFlags are the bucket web UI's flags of the components serving it (store, compact). */
export const bucketWebFlags: Readonly<Record<string, FlagSpec>> = {
  'web.external-prefix': { type: 'string', default: '', help: 'Static prefix for all HTML links and redirect URLs in the bucket web UI interface (behind a path-stripping reverse proxy).' },
  'web.prefix-header': { type: 'string', default: '', help: 'Accepted for Thanos compatibility; the UI uses --web.external-prefix.' },
  'bucket-web-label': { type: 'string', default: '', help: 'External block label to use as group title in the bucket web UI.' },
  'disable-admin-operations': { type: 'boolean', default: false, help: 'Disable UI/API admin operations like marking blocks for deletion and no compaction.' },
};

/** gracePeriodFlags are Thanos's shutdown grace periods: in-flight calls get this long to finish after SIGTERM. */
export const gracePeriodFlags: Readonly<Record<string, FlagSpec>> = {
  'http-grace-period': { type: 'string', default: '2m', help: 'Time to wait after an interrupt received for the HTTP server to finish requests in flight.' },
  'grpc-grace-period': { type: 'string', default: '2m', help: 'Time to wait after an interrupt received for the gRPC server to finish calls in flight.' },
};


/** hashFuncFlags is --hash-func of the components that write blocks (Thanos's name and default). */
export const hashFuncFlags: Readonly<Record<string, FlagSpec>> = {
  'hash-func': { type: 'string', default: '', help: 'Hash function for the files of produced blocks, recorded in meta.json: "" (none) or "SHA256".' },
};

/** hashFuncFromFlags checks --hash-func: 'SHA256' or 'none' (''). */
export function hashFuncFromFlags(ctx: RunContext): HashFunc {
  const v = flagString(ctx, 'hash-func');
  if (v !== '' && v !== 'SHA256') throw new UsageError(`--hash-func: "${v}" is not "" or "SHA256"`);
  return v === 'SHA256' ? 'SHA256' : 'none';
}

/** shipperFlags are Thanos's shipper flags of the components that upload their blocks (sidecar, rule). */
export const shipperFlags: Readonly<Record<string, FlagSpec>> = {
  'shipper.upload-compacted': { type: 'boolean', default: false, help: 'Also upload compacted blocks (level > 1). Use once, when migrating an existing Prometheus.' },
  'shipper.meta-file-name': { type: 'string', default: 'thanos.shipper.json', help: 'File in the TSDB directory recording the uploaded blocks.' },
  'shipper.upload-concurrency': { type: 'string', default: '0', help: 'Number of files of one block uploaded at the same time (0 or 1: one at a time).' },
  ...hashFuncFlags,
};

/** httpConfigFlags is every component's --http.config (exporter-toolkit web config: TLS, basic auth, headers). */
export const httpConfigFlags: Readonly<Record<string, FlagSpec>> = {
  'http.config': { type: 'string', default: '', help: 'Path to the web configuration file (Prometheus exporter-toolkit format) that can enable TLS, basic authentication and response headers for all HTTP endpoints.' },
};

/** webConfigFromFlags reads --http.config; undefined when unset. */
export function webConfigFromFlags(ctx: RunContext): Promise<WebConfig | undefined> {
  return loadWebConfig(flagString(ctx, 'http.config'));
}

/** grpcServerTlsFlags are the TLS flags of every gRPC server (Thanos's names). */
export const grpcServerTlsFlags: Readonly<Record<string, FlagSpec>> = {
  'grpc-server-tls-cert': { type: 'string', default: '', help: 'TLS certificate for the gRPC server; leave blank to disable TLS.' },
  'grpc-server-tls-key': { type: 'string', default: '', help: 'TLS key for the gRPC server; leave blank to disable TLS.' },
  'grpc-server-tls-client-ca': { type: 'string', default: '', help: 'TLS CA to verify clients against (mutual TLS). If no client CA is specified, there is no client verification on server side.' },
  'grpc-server-tls-min-version': { type: 'string', default: '1.3', help: 'Lowest TLS version the gRPC server accepts: 1.0, 1.1, 1.2 or 1.3.' },
};

/** httpGracePeriodFlags is the HTTP grace period alone, for components without a gRPC server. */
export const httpGracePeriodFlags: Readonly<Record<string, FlagSpec>> = { 'http-grace-period': gracePeriodFlags['http-grace-period']! };

/** grpcServerConnectionFlags are Thanos's gRPC server connection flags. */
export const grpcServerConnectionFlags: Readonly<Record<string, FlagSpec>> = {
  'grpc-server-max-connection-age': { type: 'string', default: '60m', help: 'Each gRPC connection is closed gracefully (calls in flight finish) after this age, so that clients reconnect and redo TLS handshakes; 0 = no limit.' },
};

/** experimentalPromqlIgnoredFlags are Thanos's switches for experimental PromQL functions, accepted and ignored (the experimental functions are always on). */
export const experimentalPromqlIgnoredFlags: Readonly<Record<string, FlagSpec>> = {
  'enable-feature': { type: 'string', multiple: true, help: "Accepted for Thanos compatibility (promql-experimental-functions) and ignored: Tessera's PromQL engine always has Prometheus's experimental functions." },
  'query.enable-x-functions': { type: 'boolean', default: false, help: "Accepted for Thanos compatibility and ignored: Tessera's PromQL engine has no x-functions (xrate, xincrease, xdelta); queries using them fail as unknown functions." },
};

/** requestLoggingIgnoredFlags are Thanos's request logging flags, accepted for compatibility and ignored. */
export const requestLoggingIgnoredFlags: Readonly<Record<string, FlagSpec>> = {
  'request.logging-config-file': { type: 'string', help: 'Accepted for Thanos compatibility and ignored: requests are not logged.' },
  'request.logging-config': { type: 'string', help: 'Accepted for Thanos compatibility and ignored (see --request.logging-config-file).' },
};

/** grpcServerCredentialsFromFlags builds the gRPC server's credentials from grpcServerTlsFlags. */
export function grpcServerCredentialsFromFlags(ctx: RunContext): ReturnType<typeof grpcServerCredentials> {
  return grpcServerCredentials({
    certFile: flagString(ctx, 'grpc-server-tls-cert'),
    keyFile: flagString(ctx, 'grpc-server-tls-key'),
    clientCaFile: flagString(ctx, 'grpc-server-tls-client-ca'),
    minVersion: flagString(ctx, 'grpc-server-tls-min-version') || '1.3',
  });
}

/** grpcClientTlsFlags are the TLS flags of components that dial StoreAPI endpoints (Thanos's names). */
export const grpcClientTlsFlags: Readonly<Record<string, FlagSpec>> = {
  'grpc-client-tls-secure': { type: 'boolean', default: false, help: 'Use TLS when talking to the gRPC server.' },
  'grpc-client-tls-skip-verify': { type: 'boolean', default: false, help: 'Disable TLS certificate verification, i.e. accept self-signed certificates or ones signed by an unknown CA.' },
  'grpc-client-tls-cert': { type: 'string', default: '', help: 'TLS certificate to identify this client to the server.' },
  'grpc-client-tls-key': { type: 'string', default: '', help: "TLS key for the client's certificate." },
  'grpc-client-tls-ca': { type: 'string', default: '', help: 'TLS CA certificates to verify gRPC servers with (default: the system roots).' },
  'grpc-client-server-name': { type: 'string', default: '', help: 'Server name to verify the hostname on the returned gRPC certificates (see RFC 4366 section 3.1).' },
  'grpc-client-tls-min-version': { type: 'string', default: '1.3', help: "Accepted for Thanos compatibility (deprecated there) and ignored: the client offers Node.js's TLS versions (1.2 and 1.3)." },
};

/** grpcClientTlsFromFlags builds the dialling credentials from grpcClientTlsFlags (undefined = plain text). */
export function grpcClientTlsFromFlags(ctx: RunContext): Promise<GrpcClientTls | undefined> {
  return grpcClientCredentials(grpcClientTlsOptionsFromFlags(ctx));
}

/** grpcClientTlsOptionsFromFlags reads grpcClientTlsFlags (paths, not yet loaded). */
export function grpcClientTlsOptionsFromFlags(ctx: RunContext): GrpcClientTlsOptions {
  const minVersion = flagString(ctx, 'grpc-client-tls-min-version');
  if (!['', '1.0', '1.1', '1.2', '1.3'].includes(minVersion)) throw new UsageError(`--grpc-client-tls-min-version: "${minVersion}" is not one of 1.0, 1.1, 1.2, 1.3`);
  return {
    secure: flagBool(ctx, 'grpc-client-tls-secure'),
    skipVerify: flagBool(ctx, 'grpc-client-tls-skip-verify'),
    certFile: flagString(ctx, 'grpc-client-tls-cert'),
    keyFile: flagString(ctx, 'grpc-client-tls-key'),
    caFile: flagString(ctx, 'grpc-client-tls-ca'),
    serverName: flagString(ctx, 'grpc-client-server-name'),
  };
}
