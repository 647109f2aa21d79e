import type { NextFunction, Request, Response } from 'express';

/**
 * The web host listens on loopback only, but a web page in the same browser can still send
 * requests to it. Refuse any Host other than our own address (DNS rebinding) and any cross-site
 * Origin on API calls (CSRF): only the UI we serve may drive the cluster.
 */
export function loopbackGuard(port: () => number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const allowedHosts = new Set([`127.0.0.1:${port()}`, `localhost:${port()}`]);
    const host = req.headers.host ?? '';
    if (!allowedHosts.has(host)) {
      res.status(403).json({ error: 'FORBIDDEN', message: `host '${host.slice(0, 60)}' is not served here; use http://127.0.0.1:${port()}` });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) {
      res.status(403).json({ error: 'FORBIDDEN', message: `requests from origin '${origin.slice(0, 60)}' are refused` });
      return;
    }
    next();
  };
}
