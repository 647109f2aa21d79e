import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * Which `Host` headers a broker answers (DNS rebinding, docs/security.md "Browsers"). A page on
 * `http://evil.example` whose name its owner re-points at 127.0.0.1 is same-origin with the broker
 * in the browser's eyes: an old browser (no Sec-Fetch-Site) sends its GETs without Origin, and
 * could read what they answer. Its requests still carry `Host: evil.example`, which a page cannot
 * change. So, as webpack-dev-server's allowedHosts and Jupyter do, a broker answers only Hosts that
 * cannot be a rebound name:
 * - an IP literal (v4, or v6 in brackets): rebinding needs a name the attacker's DNS answers for;
 * - `localhost` and `*.localhost` (RFC 6761: browsers resolve them to loopback themselves);
 * - the names it is given: its advertised URL's host, a named --host, and --allow-host (`*`: any).
 * A request without a Host (HTTP/1.0 tools), or with an empty one, comes from no browser and passes.
 */
export type HostCheck = (host: string | undefined) => boolean;

export function createHostCheck(allowedNames: readonly string[]): HostCheck {
  if (allowedNames.includes('*')) return () => true;
  const allowed = new Set<string>();
  for (const name of allowedNames) {
    const canonical = canonicalHostName(name); // null for an IPv6 literal (such as --host ::), answered anyway
    if (canonical !== null) allowed.add(canonical);
  }
  return (header) => {
    if (header === undefined || header === '') return true;
    const host = hostOfHeader(header);
    if (host === null) return false;
    if (host.ip) return true;
    return host.name === 'localhost' || host.name.endsWith('.localhost') || allowed.has(host.name);
  };
}

/** The host of a `Host` header without its port: an IP literal, or a canonical name; null when malformed. */
export function hostOfHeader(header: string): { ip: true } | { ip: false; name: string } | null {
  const value = header.trim();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end === -1 || isIP(value.slice(1, end)) !== 6 || !/^(:\d*)?$/.test(value.slice(end + 1))) return null;
    return { ip: true };
  }
  if (isIP(value) === 6) return { ip: true }; // unbracketed, as some programs write it; never a name
  const colon = value.indexOf(':');
  if (colon !== -1 && !/^\d*$/.test(value.slice(colon + 1))) return null;
  const name = canonicalHostName(colon === -1 ? value : value.slice(0, colon));
  if (name === null) return null;
  return isIP(name) === 4 ? { ip: true } : { ip: false, name };
}

/**
 * Lower case, punycode (browsers send `xn--…`, a person may type `bücher.example`), one trailing
 * dot dropped (`localhost.` is `localhost`), IPv4 in dotted form (`127.1` is `127.0.0.1`); null for
 * what is no host name. IPv6 literals are not names: null.
 */
export function canonicalHostName(name: string): string | null {
  // domainToASCII parses like a URL's host: `a/b` would come back as `a`, so such characters go first.
  if (name.length === 0 || name.length > 255 || /[\s/\\?#@:[\]%]/.test(name)) return null;
  const ascii = domainToASCII(name);
  const bare = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  return /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(bare) ? bare : null;
}
