import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './config-error.js';
import { boolean, type Raw } from './values.js';

/** A PEM file read (and checked) once at start. */
export interface PemFile {
  /** Absolute path, for messages. */
  path: string;
  pem: Buffer;
}

/** --tls-cert + --tls-key: this broker serves HTTPS, and presents the same pair as its client certificate. */
export interface ServerTls {
  cert: PemFile;
  key: PemFile;
  /** --tls-client-auth: every connection must present a certificate signed by --tls-ca. */
  clientAuth: boolean;
}

export interface TlsSettings {
  tls: ServerTls | null;
  /** --tls-ca: the CAs trusted for other brokers, rediss:// and client certificates; null = the system CAs. */
  tlsCa: PemFile | null;
}

const CERT_BLOCK_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Reads and checks the TLS files at start, so a missing, unreadable or mismatched file stops the
 * broker with one line naming its flag instead of failing on the first connection.
 */
export function parseTls(
  certRaw: Raw | undefined,
  keyRaw: Raw | undefined,
  caRaw: Raw | undefined,
  clientAuthRaw: Raw | undefined,
): TlsSettings {
  if ((certRaw === undefined) !== (keyRaw === undefined)) {
    const [given, missing] = certRaw ? ['--tls-cert', '--tls-key'] : ['--tls-key', '--tls-cert'];
    throw new ConfigError(`${given} needs ${missing} too: HTTPS takes a certificate and its private key`, missing);
  }
  const clientAuth = clientAuthRaw ? boolean('tls-client-auth', clientAuthRaw) : false;
  if (clientAuth && caRaw === undefined) {
    throw new ConfigError('--tls-client-auth needs --tls-ca: the CA that signs the client certificates to accept', '--tls-client-auth');
  }
  if (clientAuth && certRaw === undefined) {
    throw new ConfigError('--tls-client-auth needs --tls-cert and --tls-key: client certificates are asked for during the TLS handshake', '--tls-client-auth');
  }
  const tlsCa = caRaw ? readCa(caRaw) : null;
  if (!certRaw || !keyRaw) return { tls: null, tlsCa };

  const cert = readPem('tls-cert', certRaw);
  const key = readPem('tls-key', keyRaw);
  if (!cert.pem.includes('-----BEGIN CERTIFICATE-----')) throw tlsFileError('tls-cert', certRaw, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  try {
    createPrivateKey(key.pem);
  } catch (err) {
    throw tlsFileError('tls-key', keyRaw, `is not a PEM private key (unencrypted): ${reason(err)}`);
  }
  try {
    createSecureContext({ cert: cert.pem, key: key.pem });
  } catch (err) {
    throw tlsFileError('tls-cert', certRaw, `does not go with --tls-key ${key.path}: ${reason(err)}`);
  }
  return { tls: { cert, key, clientAuth }, tlsCa };
}

/** A CA bundle: one or more PEM certificates, each of which must parse (node's tls would skip a bad one silently). */
function readCa(raw: Raw): PemFile {
  const file = readPem('tls-ca', raw);
  const blocks = file.pem.toString('latin1').match(CERT_BLOCK_RE) ?? [];
  if (blocks.length === 0) throw tlsFileError('tls-ca', raw, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw tlsFileError('tls-ca', raw, `certificate ${i + 1} does not parse: ${reason(err)}`);
    }
  });
  return file;
}

function readPem(flag: string, raw: Raw): PemFile {
  const path = resolve(raw.value);
  try {
    return { path, pem: readFileSync(path) };
  } catch (err) {
    throw tlsFileError(flag, raw, `cannot be read: ${reason(err)}`);
  }
}

function tlsFileError(flag: string, raw: Raw, why: string): ConfigError {
  const from = raw.env ? ` (from ${raw.env})` : '';
  return new ConfigError(`--${flag} ${raw.value}${from} ${why}`, `--${flag}`);
}

function reason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
}

/** What this broker presents and trusts when it connects to other brokers and to Redis over TLS. */
export interface OutboundTls {
  /** Trusted CAs; absent = the system CAs. */
  ca?: Buffer;
  /** Client certificate and key (this broker's own), for peers that ask for one. */
  cert?: Buffer;
  key?: Buffer;
}

export function outboundTls(settings: TlsSettings): OutboundTls {
  return {
    ...(settings.tlsCa ? { ca: settings.tlsCa.pem } : {}),
    ...(settings.tls ? { cert: settings.tls.cert.pem, key: settings.tls.key.pem } : {}),
  };
}

/** The TLS part of https.createServer's options; undefined = plain HTTP. */
export function serverTlsOptions(settings: TlsSettings): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } | undefined {
  const { tls, tlsCa } = settings;
  if (!tls) return undefined;
  return {
    cert: tls.cert.pem,
    key: tls.key.pem,
    ...(tlsCa ? { ca: tlsCa.pem } : {}),
    requestCert: tls.clientAuth,
    rejectUnauthorized: tls.clientAuth,
  };
}
