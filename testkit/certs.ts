import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files made with the openssl command line, as docs/security.md shows (paths in `dir`). */
export interface TestCerts {
  dir: string;
  /** The cluster's CA: signs the server and client certificates. */
  caCert: string;
  caKey: string;
  /** For 127.0.0.1 and localhost; usable as a server and as a client certificate (brokers present it to each other). */
  serverCert: string;
  serverKey: string;
  /** A client certificate (CN=app) signed by the CA. */
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA (for "a certificate from another CA is refused"). */
  otherCaCert: string;
  remove(): void;
}

/** RSA 2048 keeps it to ~1 s on a slow machine; certificates valid for 2 days. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'yak-certs-'));
  const p = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

  const makeCa = (name: string, cn: string) =>
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`,
      '-keyout', p(`${name}.key`), '-out', p(`${name}.crt`),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  makeCa('ca', 'yak-test-ca');
  makeCa('other-ca', 'some-other-ca');

  const signed = (name: string, cn: string, extensions: string) => {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`));
    writeFileSync(p(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-days', '2', '-out', p(`${name}.crt`), '-extfile', p(`${name}.ext`));
  };
  signed('server', 'yak-broker', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  signed('client', 'app', 'extendedKeyUsage=clientAuth\n');

  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCaCert: p('other-ca.crt'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
