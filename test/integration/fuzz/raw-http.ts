import http from 'node:http';
import net from 'node:net';

/**
 * HTTP for fuzzing: node:http for requests it can express (any method token, header and body
 * bytes), and a bare socket for the ones it refuses to send (broken framing, bad header bytes).
 * Neither retries nor follows anything, so every answer counted is the broker's own.
 */

export interface Reply {
  /** The status line's code, or null when the connection ended without an answer. */
  status: number | null;
  text: string;
  /** What went wrong on the client side when status is null. */
  error?: string;
}

export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  agent?: http.Agent;
  timeoutMs?: number;
}

export function send(port: number, spec: RequestSpec): Promise<Reply> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Reply) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    let req: http.ClientRequest;
    // node:http frames a GET's body neither by length nor by chunks (it just writes it): say its length.
    const headers = spec.body === undefined ? spec.headers : { 'content-length': String(Buffer.byteLength(spec.body)), ...spec.headers };
    try {
      req = http.request({
        host: '127.0.0.1',
        port,
        method: spec.method,
        path: spec.path,
        headers,
        agent: spec.agent ?? false,
        timeout: spec.timeoutMs ?? 15_000,
      });
    } catch (err) {
      // node:http refused to build it (bad token or header char): the caller sends it raw instead.
      done({ status: null, text: '', error: `client: ${(err as Error).message}` });
      return;
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? null, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => done({ status: res.statusCode ?? null, text: Buffer.concat(chunks).toString('utf8'), error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (err) => done({ status: null, text: '', error: err.message }));
    req.end(spec.body);
  });
}

/** Writes `bytes` on a fresh socket and reads one answer (status line, headers, content-length body). */
export function sendRaw(port: number, bytes: Buffer | string, timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const reply = parseReply(buf);
      resolve(reply ? reply : { status: null, text: buf.toString('latin1').slice(0, 200), error: error ?? 'closed without an answer' });
    };
    socket.setTimeout(timeoutMs, () => finish('timeout'));
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = parseReply(buf);
      if (r && r.complete) finish();
    });
    socket.on('error', (err) => finish(err.message));
    socket.on('close', () => finish());
  });
}

function parseReply(all: Buffer): (Reply & { complete: boolean }) | null {
  // Interim answers (100 Continue) come before the real one.
  let buf = all;
  while (/^HTTP\/1\.[01] 1\d\d /.test(buf.subarray(0, 13).toString('latin1')) && buf.indexOf('\r\n\r\n') >= 0) buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4);
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) return null;
  const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const body = buf.subarray(end + 4);
  const want = len ? Number(len[1]) : Number.POSITIVE_INFINITY;
  return { status: Number(m[1]), text: body.subarray(0, Math.min(body.length, want)).toString('utf8'), complete: body.length >= want };
}

/**
 * A slowloris client: sends a request line, then one header byte every `everyMs`, forever. `closed`
 * resolves when the server drops it (with what it answered, if anything).
 */
export function slowloris(port: number, everyMs: number): { closed: Promise<{ afterMs: number; answer: string }>; stop(): void } {
  const socket = net.connect(port, '127.0.0.1');
  const started = Date.now();
  const drip = 'X-Slow-Header-Name-That-Never-Ends: ' + 'a'.repeat(10_000);
  let i = 0;
  let answer = '';
  let timer: NodeJS.Timeout | null = null;
  socket.on('connect', () => {
    socket.write('POST /produce HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    timer = setInterval(() => {
      if (socket.writable) socket.write(drip[i++ % drip.length]!);
    }, everyMs);
  });
  socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<{ afterMs: number; answer: string }>((resolve) =>
    socket.on('close', () => {
      if (timer) clearInterval(timer);
      resolve({ afterMs: Date.now() - started, answer });
    }),
  );
  return {
    closed,
    stop() {
      if (timer) clearInterval(timer);
      socket.destroy();
    },
  };
}
