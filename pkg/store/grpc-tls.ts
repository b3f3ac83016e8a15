import { readFile } from 'node:fs/promises';
import type { SecureServerOptions } from 'node:http2';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { TesseraError } from '../errors/index.js';

/** GRPC_TLS_CONFIG_ERROR is the code of errors reading or combining gRPC TLS flags. */
export const GRPC_TLS_CONFIG_ERROR = 'TESSERA_GRPC_TLS_CONFIG';

/** GrpcServerTlsOptions are Thanos's --grpc-server-tls-* flags (paths; '' = unset). */
export interface GrpcServerTlsOptions {
  /** certFile: PEM certificate (chain) of the server; '' with keyFile '' serves plain text. */
  readonly certFile: string;
  readonly keyFile: string;
  /** clientCaFile: when set, clients must present a certificate signed by it (mutual TLS). */
  readonly clientCaFile?: string;
  /** minVersion: lowest TLS version accepted, Thanos's "1.0" … "1.3" (default "1.3", as Thanos). */
  readonly minVersion?: string;
}

const TLS_VERSIONS: Record<string, SecureVersion> = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

/**
 * TlsServerCredentials are grpc-js server credentials built from Node's TLS options, so settings
 * createSsl has no parameter for (the minimum TLS version) reach the HTTP/2 server.
 */
class TlsServerCredentials extends grpc.ServerCredentials {
  constructor(server: SecureServerOptions, context: SecureContextOptions) {
    super(server, context);
  }

  override _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

/** GrpcClientTlsOptions are Thanos's --grpc-client-* flags (paths; '' = unset). */
export interface GrpcClientTlsOptions {
  /** secure: use TLS at all (--grpc-client-tls-secure); the other options need it. */
  readonly secure: boolean;
  /** certFile/keyFile: the client's certificate, presented to servers that ask (mutual TLS). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** caFile: CA certificates to verify servers with; '' uses Node's root certificates. */
  readonly caFile?: string;
  /** serverName: the name to verify the server's certificate for, and to send as SNI. */
  readonly serverName?: string;
  /** skipVerify: accept any server certificate (self-signed, unknown CA, other name). */
  readonly skipVerify?: boolean;
}

/** GrpcClientTls is what GrpcStoreClient needs to dial with TLS. */
export interface GrpcClientTls {
  readonly credentials: grpc.ChannelCredentials;
  /** serverName overrides the name checked and sent as SNI ('' = the dialled host). */
  readonly serverName: string;
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new TesseraError(GRPC_TLS_CONFIG_ERROR, `read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * allInOrder is Promise.all that, when several reject, throws the first one's reason in argument
 * order (not the first to settle), so that the error names the same file every time.
 */
async function allInOrder<T extends readonly unknown[]>(ps: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const rs = await Promise.allSettled(ps as readonly Promise<unknown>[]);
  for (const r of rs) if (r.status === 'rejected') throw r.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/**
 * grpcServerCredentials builds the credentials of every gRPC server from the --grpc-server-tls-*
 * flags: plain text when neither certificate nor key is given, TLS with them, and mutual TLS
 * (clients must present a certificate the client CA signed; others fail the handshake) when a
 * client CA is given too, as Thanos does.
 */
export async function grpcServerCredentials(o: GrpcServerTlsOptions): Promise<grpc.ServerCredentials> {
  const ca = o.clientCaFile ?? '';
  if (o.certFile === '' && o.keyFile === '') {
    if (ca !== '') throw new TesseraError(GRPC_TLS_CONFIG_ERROR, '--grpc-server-tls-client-ca needs --grpc-server-tls-cert and --grpc-server-tls-key');
    return grpc.ServerCredentials.createInsecure();
  }
  if (o.certFile === '' || o.keyFile === '') {
    throw new TesseraError(GRPC_TLS_CONFIG_ERROR, 'gRPC server TLS needs both --grpc-server-tls-cert and --grpc-server-tls-key');
  }
  const minVersion = TLS_VERSIONS[o.minVersion ?? '1.3'];
  if (minVersion === undefined) throw new TesseraError(GRPC_TLS_CONFIG_ERROR, `--grpc-server-tls-min-version: "${o.minVersion}" is not one of 1.0, 1.1, 1.2, 1.3`);
  const [cert, key, rootCa] = await allInOrder([
    readPem(o.certFile, 'gRPC server TLS certificate'),
    readPem(o.keyFile, 'gRPC server TLS key'),
    ca !== '' ? readPem(ca, 'gRPC server TLS client CA') : Promise.resolve(null),
  ]);
  try {
    // Checks the pair (and the CA) now, so a bad file is a start-up error, not a failing handshake.
    createSecureContext({ cert, key, ...(rootCa !== null ? { ca: rootCa } : {}) });
    return new TlsServerCredentials({ requestCert: rootCa !== null, rejectUnauthorized: true, minVersion }, { cert, key, ...(rootCa !== null ? { ca: rootCa } : {}) });
  } catch (err) {
    throw new TesseraError(GRPC_TLS_CONFIG_ERROR, `load gRPC server TLS certificate ${o.certFile} and key ${o.keyFile}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * grpcClientCredentials builds the credentials the querier dials StoreAPI endpoints with from the
 * --grpc-client-* flags: plain text unless secure; with secure, servers are verified against the
 * CA file (or Node's roots), the client certificate is presented when given, and skipVerify turns
 * verification off. Returns undefined for plain text.
 */
export async function grpcClientCredentials(o: GrpcClientTlsOptions): Promise<GrpcClientTls | undefined> {
  const certFile = o.certFile ?? '';
  const keyFile = o.keyFile ?? '';
  const caFile = o.caFile ?? '';
  if (!o.secure) {
    if (certFile !== '' || keyFile !== '' || caFile !== '' || (o.serverName ?? '') !== '' || o.skipVerify === true) {
      throw new TesseraError(GRPC_TLS_CONFIG_ERROR, 'gRPC client TLS flags are set but --grpc-client-tls-secure is not');
    }
    return undefined;
  }
  if ((certFile === '') !== (keyFile === '')) {
    throw new TesseraError(GRPC_TLS_CONFIG_ERROR, 'gRPC client TLS needs both --grpc-client-tls-cert and --grpc-client-tls-key, or neither');
  }
  const [cert, key, ca] = await allInOrder([
    certFile !== '' ? readPem(certFile, 'gRPC client TLS certificate') : Promise.resolve(null),
    keyFile !== '' ? readPem(keyFile, 'gRPC client TLS key') : Promise.resolve(null),
    caFile !== '' ? readPem(caFile, 'gRPC client TLS CA') : Promise.resolve(null),
  ]);
  const verify: grpc.VerifyOptions = o.skipVerify === true ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {};
  try {
    return { credentials: grpc.credentials.createSsl(ca, key, cert, verify), serverName: o.serverName ?? '' };
  } catch (err) {
    throw new TesseraError(GRPC_TLS_CONFIG_ERROR, `load gRPC client TLS certificate ${certFile} and key ${keyFile}: ${(err as Error).message}`, { cause: err });
  }
}
