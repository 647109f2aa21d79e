import http from 'node:http';
import https from 'node:https';
import type { OutboundTls } from '../config/tls.js';

export class TransportError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

/**
 * A frame's headers. A function stands for a value only an HTTP POST needs (the sender proof,
 * sender-proof.ts: a second HMAC, ~15 µs): the transport, which alone knows whether a frame goes
 * by POST or on a replication stream, calls it only for a POST (postHeaders).
 */
export type FrameHeaders = Record<string, string | (() => string)>;

/**
 * The lazy x-yak-frame-sender value: signed for the frame's own length when called without one,
 * or for `length` bytes (StreamTransport asks for 0: the proof an upgrade to a stream carries).
 */
export type SenderProof = (length?: number) => string;

/** The headers of a frame sent by HTTP POST: every lazy value computed. */
export function postHeaders(headers: FrameHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = typeof value === 'function' ? value() : value;
  return out;
}

/** What replication needs to carry a frame: one request, the answer's bytes (or a rejection). */
export interface FramePoster {
  post(baseUrl: string, path: string, body: Buffer, timeoutMs: number, extraHeaders?: FrameHeaders): Promise<Buffer>;
  /**
   * How many frames to `baseUrl` may be in flight at once now: more than 1 only on an open ordered
   * connection (a replication stream), where frames arrive in the order sent and a break fails
   * every one in flight. Absent, or 1: one frame at a time (a POST each).
   */
  inFlightLimit?(baseUrl: string): number;
  /**
   * Whether frames to `baseUrl` go on an open replication stream now, whatever its inFlightLimit.
   * Absent: inFlightLimit(baseUrl) > 1 says it.
   */
  streaming?(baseUrl: string): boolean;
}

/**
 * Posts replication frames to followers, raw bytes in and out: replication never goes through
 * JSON bodies or express. One keep-alive pool per scheme (node pools per host within each):
 * https:// followers are verified against `tls.ca` (the system CAs without it) and shown this
 * broker's own certificate, so followers that demand client certificates accept their leader.
 */
export class FrameTransport implements FramePoster {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly httpsAgent: https.Agent;

  constructor(tls: OutboundTls = {}) {
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4, ...tls });
  }

  post(baseUrl: string, path: string, body: Buffer, timeoutMs: number, extraHeaders: FrameHeaders = {}): Promise<Buffer> {
    const url = new URL(path, baseUrl);
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { ...postHeaders(extraHeaders), 'content-type': 'application/octet-stream', 'content-length': body.length },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const buf = Buffer.concat(chunks);
            if (res.statusCode === 200) resolve(buf);
            else reject(new TransportError(`HTTP ${res.statusCode}: ${buf.toString('utf8').slice(0, 200)}`, res.statusCode));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new TransportError(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Closes pooled connections (at stop). */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
