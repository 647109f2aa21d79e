import type { IncomingMessage, ServerResponse } from 'node:http';
import { forbidden, type YakError } from '../errors/errors.js';
import { createHostCheck, hostOfHeader } from './host-check.js';

/**
 * Keeps web pages away from the broker (DESIGN.md "Browsers"). Any page a user opens can send
 * requests to 127.0.0.1; without this, one `fetch(..., {mode: 'no-cors'})` could produce or, worse,
 * replicate. Browsers mark their requests, and pages cannot remove the marks:
 * - `Origin` on every cross-origin request and every POST: refused unless listed in --allow-origin;
 * - `Sec-Fetch-Site` on every request of a modern browser: anything but `none` (the user typed the
 *   URL) without an allowed Origin is refused too. That covers no-cors GETs, which carry no Origin,
 *   and DNS rebinding, where a hostile name resolves to the broker and the page looks same-origin;
 * - `Host` on every request, which an older browser rebinding a name sends too: only IP literals,
 *   localhost and the broker's own names are answered (host-check.ts), checked first.
 * Programs (curl, the client, other brokers) send neither Origin nor Sec-Fetch-Site, and reach the
 * broker by an address or a name it answers to, so are not affected.
 */
export type BrowserGuard = (req: IncomingMessage, res: ServerResponse) => 'pass' | 'answered' | YakError;

const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * `allowedHosts`: host names answered besides IP literals and localhost (--allow-host, the
 * advertised URL's host, a named --host); `*` answers any.
 */
export function createBrowserGuard(allowedOrigins: readonly string[], allowedHosts: readonly string[] = []): BrowserGuard {
  const any = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins);
  const hostAllowed = createHostCheck(allowedHosts);
  return (req, res) => {
    const host = req.headers.host;
    if (!hostAllowed(host)) return forbidden(refusedHost(host!));
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!any && !allowed.has(origin)) return forbidden(`requests from origin '${clipOrigin(origin)}' are not allowed (--allow-origin)`);
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'origin');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': 'content-type, authorization',
          'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
        });
        res.end();
        return 'answered';
      }
      return 'pass';
    }
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'none') {
      return forbidden(`browser requests (sec-fetch-site: ${clipOrigin(String(site))}) need an allowed Origin (--allow-origin)`);
    }
    return 'pass';
  };
}

function refusedHost(header: string): string {
  const parsed = hostOfHeader(header);
  const name = parsed !== null && !parsed.ip ? parsed.name : null;
  const fix = name !== null ? `start the broker with --allow-host ${name}` : 'reach it by its IP address or a name given to --allow-host';
  return `Host '${clipOrigin(header)}' is not a name this broker answers to (it refuses unknown names against DNS rebinding): ${fix}, or use its advertised URL`;
}

function clipOrigin(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
