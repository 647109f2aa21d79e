import net from 'node:net';
import tls from 'node:tls';

/** What every bench connection to a broker carries when the brokers run with --auth-file and/or TLS. */
export interface ConnectionSecurity {
  /** `<principal>:<secret>`, sent as `Authorization: Bearer …` on every request. */
  token?: string;
  /** PEM CA that signed the brokers' certificates (https:// URLs: tls.connect instead of net.connect). */
  ca?: Buffer;
}

/**
 * A minimal HTTP/1.1 client over one keep-alive socket, one request at a time.
 *
 * Why not fetch or node:http: on this machine (32 concurrent POSTs to a trivial node:http server)
 * the global fetch costs the client ~0.5-1 ms of CPU per request and node:http with a keep-alive
 * Agent ~50 µs; this costs ~12 µs. The benchmark client shares two cores with three brokers and
 * Redis, so every microsecond it spends is taken from the broker it measures. It only has to
 * understand the broker's answers: a status line, headers with content-length, a body. Over TLS
 * (`--tls`) it is the same on a tls.connect socket.
 */
export interface HttpAnswer {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export class HttpConnection {
  private buf: Buffer | null = null;
  private pending: { resolve: (a: HttpAnswer) => void; reject: (e: Error) => void } | null = null;
  private closed = false;
  /** The fixed header lines of every request (host, and authorization when a token is given). */
  private readonly fixedHeaders: string;

  private constructor(
    private readonly socket: net.Socket,
    host: string,
    port: number,
    token: string | undefined,
  ) {
    this.fixedHeaders = `host: ${host}:${port}\r\n${token === undefined ? '' : `authorization: Bearer ${token}\r\n`}`;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /**
   * Connects to the broker at `baseUrl`: http://host:port over plain TCP, https://host:port over
   * TLS (verified against `security.ca`, the host name or IP checked against the certificate).
   */
  static open(baseUrl: string, security: ConnectionSecurity = {}, timeoutMs = 5000): Promise<HttpConnection> {
    const u = new URL(baseUrl);
    const secure = u.protocol === 'https:';
    const port = Number(u.port || (secure ? 443 : 80));
    return new Promise((resolve, reject) => {
      const s = secure
        ? tls.connect({ port, host: u.hostname, ca: security.ca, ...(net.isIP(u.hostname) ? {} : { servername: u.hostname }) })
        : net.connect(port, u.hostname);
      const t = setTimeout(() => s.destroy(new Error(`connect to ${baseUrl} timed out`)), timeoutMs);
      s.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(t);
        s.off('error', reject);
        resolve(new HttpConnection(s, u.hostname, port, security.token));
      });
      s.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
  }

  get usable(): boolean {
    return !this.closed;
  }

  request(method: 'GET' | 'POST', path: string, body?: string | Buffer): Promise<HttpAnswer> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    if (this.pending) return Promise.reject(new Error('one request at a time per connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      if (body === undefined) {
        this.socket.write(`${method} ${path} HTTP/1.1\r\n${this.fixedHeaders}\r\n`);
        return;
      }
      const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      const head = `${method} ${path} HTTP/1.1\r\n${this.fixedHeaders}content-type: application/json\r\ncontent-length: ${len}\r\n\r\n`;
      if (typeof body === 'string') this.socket.write(head + body);
      else {
        this.socket.cork();
        this.socket.write(head);
        this.socket.write(body);
        this.socket.uncork();
      }
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Chunks of a body still arriving, so a large answer is copied once, not once per chunk. */
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Once the head of the current answer is parsed: its status and the total bytes to wait for. */
  private head: { status: number; bodyStart: number; end: number; close: boolean } | null = null;

  private onData(d: Buffer): void {
    if (this.head) {
      this.parts.push(d);
      this.partsBytes += d.length;
      if (this.partsBytes < this.head.end) return;
      this.buf = Buffer.concat(this.parts, this.partsBytes);
      this.parts = [];
      this.partsBytes = 0;
    } else {
      this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    }
    while (this.buf && this.parseOne(this.buf));
  }

  /** Settles the pending request if `buf` holds its whole answer; false when more bytes are needed. */
  private parseOne(buf: Buffer): boolean {
    if (!this.head) {
      const headEnd = buf.indexOf(HEADER_END);
      if (headEnd < 0) return false;
      const text = buf.toString('latin1', 0, headEnd);
      const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      if (!lengthMatch) {
        this.fail(new Error(`answer without content-length: ${text.slice(0, 200)}`));
        this.socket.destroy();
        return false;
      }
      this.head = {
        status: Number(text.slice(9, 12)),
        bodyStart: headEnd + 4,
        end: headEnd + 4 + Number(lengthMatch[1]),
        close: /\r\nconnection:\s*close/i.test(text),
      };
    }
    const h = this.head;
    if (buf.length < h.end) {
      // Wait for the rest of the body without re-copying what we have.
      this.parts = [buf];
      this.partsBytes = buf.length;
      this.buf = null;
      return false;
    }
    this.head = null;
    const body = buf.subarray(h.bodyStart, h.end);
    this.buf = buf.length > h.end ? buf.subarray(h.end) : null;
    if (h.close) {
      this.closed = true;
      this.socket.end();
    }
    const p = this.pending;
    this.pending = null;
    p?.resolve({ status: h.status, body });
    return this.buf !== null;
  }

  private fail(err: Error): void {
    this.closed = true;
    const p = this.pending;
    this.pending = null;
    p?.reject(err);
  }
}
