import { TransportError } from './transport.js';

/**
 * Why a follower could not be reached at all (as opposed to answering with an error), in words an
 * operator can act on, or null when the failure was something else. `kind` names the condition:
 * a new kind is a new condition, logged again.
 */
export function unreachableReason(err: unknown, url: string): { kind: string; why: string } | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const host = hostOf(url);
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return { kind: 'dns', why: `the host name ${host} does not resolve here (${code})` };
    case 'ECONNREFUSED':
      return { kind: 'refused', why: `connection refused (nothing listens on ${host} at that port)` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return { kind: 'no-route', why: `no route to ${host} (${code})` };
    case 'ETIMEDOUT':
      return { kind: 'timeout', why: `connecting to ${host} timed out (${code})` };
    case 'ECONNRESET':
    case 'EPIPE':
      return { kind: 'reset', why: `the connection was reset (${code})` };
    // TLS on some brokers only, or certificates from another CA: used to fail at debug level only.
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_UNTRUSTED':
      return { kind: 'tls-untrusted', why: `its TLS certificate is not signed by a CA this broker trusts (${code}): give this broker --tls-ca (TLS_CA) with the CA that signed the other brokers' certificates` };
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return { kind: 'tls-expired', why: `its TLS certificate is outside its validity period (${code}; or a clock is wrong): renew that broker's --tls-cert` };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return { kind: 'tls-name', why: `its TLS certificate does not name ${host} (${code}): put ${host} in the certificate's subjectAltName, or advertise a name it has` };
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return { kind: 'tls-plain', why: `it does not speak TLS at that port (${code}): the URL says https but that broker runs without --tls-cert; give every broker the same TLS setting` };
  }
  if (err instanceof TransportError && err.status === undefined && /^no answer within/.test(err.message)) return { kind: 'timeout', why: err.message };
  return null;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
