import type net from 'node:net';

export interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/**
 * The first HTTP answer on a raw socket (status, head, body by its content-length), or null when the
 * connection closes before one, and everything received so far: for tests that must keep writing a
 * request while its answer comes.
 */
export function rawAnswer(socket: net.Socket): { answer: Promise<RawAnswer | null>; received: () => string } {
  let text = '';
  socket.setEncoding('latin1');
  const answer = new Promise<RawAnswer | null>((resolve) => {
    socket.on('data', (d: string) => {
      text += d;
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length >= end + 4 + length) resolve({ status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4, end + 4 + length) });
    });
    socket.on('close', () => resolve(null));
  });
  return { answer, received: () => text };
}
