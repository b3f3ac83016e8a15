import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** TestCerts are the paths of PEM files testCerts made (each *.key beside its *.crt). */
export interface TestCerts {
  readonly dir: string;
  /** ca signs server, client and namedServer. */
  readonly caCrt: string;
  /** server: SANs localhost and 127.0.0.1. */
  readonly serverCrt: string;
  readonly serverKey: string;
  /** namedServer: SAN store.tessera.test only (checked with a server-name override). */
  readonly namedServerCrt: string;
  readonly namedServerKey: string;
  /** client: a client certificate the CA signed. */
  readonly clientCrt: string;
  readonly clientKey: string;
  /** rogueCa and rogueClient: a client certificate from another CA, which must be refused. */
  readonly rogueCaCrt: string;
  readonly rogueClientCrt: string;
  readonly rogueClientKey: string;
}

async function openssl(bin: string, dir: string, args: string[]): Promise<void> {
  await run(bin, args, { cwd: dir });
}

async function ca(bin: string, dir: string, name: string): Promise<void> {
  await openssl(bin, dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
}

async function leaf(bin: string, dir: string, name: string, caName: string, ext: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(bin, dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  // A serial of our own for each certificate: with -CAcreateserial, leaves signed by one CA at the
  // same time share <ca>.srl, which openssl rewrites in place, and one of them could read it while
  // another had just truncated it ("Unable to load number from ca.srl").
  const serial = `0x${randomBytes(8).toString('hex')}`;
  await openssl(bin, dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-set_serial', serial, '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
}

/**
 * testCerts makes a throw-away PKI in dir with the openssl binary (see requireBinary): a CA,
 * server and client certificates it signed, and a client certificate from a second CA.
 */
export async function testCerts(opensslBin: string, dir: string): Promise<TestCerts> {
  await ca(opensslBin, dir, 'ca');
  await ca(opensslBin, dir, 'rogue-ca');
  await Promise.all([
    leaf(opensslBin, dir, 'server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'),
    leaf(opensslBin, dir, 'named-server', 'ca', 'subjectAltName=DNS:store.tessera.test\nextendedKeyUsage=serverAuth\n'),
    leaf(opensslBin, dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n'),
    leaf(opensslBin, dir, 'rogue-client', 'rogue-ca', 'extendedKeyUsage=clientAuth\n'),
  ]);
  const p = (f: string) => join(dir, f);
  return {
    dir,
    caCrt: p('ca.crt'),
    serverCrt: p('server.crt'),
    serverKey: p('server.key'),
    namedServerCrt: p('named-server.crt'),
    namedServerKey: p('named-server.key'),
    clientCrt: p('client.crt'),
    clientKey: p('client.key'),
    rogueCaCrt: p('rogue-ca.crt'),
    rogueClientCrt: p('rogue-client.crt'),
    rogueClientKey: p('rogue-client.key'),
  };
}
