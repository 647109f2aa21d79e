import tls from 'node:tls';

export interface PipelinedOutcome {
  /** Status of each answer received, in order. */
  statuses: number[];
  /** The connection closed before every answer came. */
  reset: boolean;
}

/**
 * Legal HTTP/1.1 pipelining on one TLS connection, placed so that the second request arrives while
 * the first one's answer cannot drain: sends `first` (a request with a large answer), stops reading
 * as soon as that answer begins, sends `second` (head and body in one write, so its TLS records reach
 * the server together), then reads on until every answer came (content-length answers only) or the
 * connection closed. `first` may hold several requests (several large answers); `answers` is how many
 * answers all the requests get.
 */
export function pipelineBehindLargeAnswer(target: { host: string; port: number; ca: Buffer | string }, first: string, second: Buffer, answers = 2): Promise<PipelinedOutcome> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const statuses: number[] = [];
    let done = false;
    const finish = (reset: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ statuses, reset });
    };
    const take = () => {
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        statuses.push(Number(head.slice(9, 12)));
        buffered = buffered.subarray(end + 4 + length);
        if (statuses.length === answers) return finish(false);
      }
    };
    const socket = tls.connect({ host: target.host, port: target.port, ca: target.ca, servername: 'localhost' }, () => {
      socket.write(first);
      socket.once('data', (d: Buffer) => {
        buffered = d;
        socket.pause(); // the first answer cannot drain while we do not read
        socket.write(second, () =>
          // Long enough for the server to read the second request while its first answer is stuck.
          setTimeout(() => {
            socket.on('data', (more: Buffer) => {
              buffered = Buffer.concat([buffered, more]);
              take();
            });
            socket.resume();
          }, 200),
        );
      });
    });
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
  });
}

/** An HTTP/1.1 POST (head and body as one buffer) with a JSON body. */
export function jsonPost(path: string, body: unknown): Buffer {
  const data = Buffer.from(JSON.stringify(body));
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${data.length}\r\n\r\n`), data]);
}
