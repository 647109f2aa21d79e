import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TestCluster } from '../../../testkit/broker/cluster.js';
import { get, post } from '../../../testkit/http.js';
import { waitFor } from '../../../testkit/wait.js';

const MAX_CONNECTIONS = 16;
/** Connections the test process itself may hold on the broker (fetch's keep-alive pool). */
const HARNESS_SLACK = 4;

interface Held {
  socket: net.Socket;
  /** Everything the broker sent on this connection. */
  received: () => string;
  closed: () => boolean;
}

function open(port: number): Promise<Held> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  return new Promise((resolve) => {
    const done = () => resolve({ socket, received: () => text, closed: () => closed });
    socket.once('connect', done);
    socket.once('close', done);
  });
}

/** Sends one request on a held connection; answers the status line, or null when the connection closed first. */
function ask(h: Held, request: string): Promise<string | null> {
  const start = h.received().length;
  return new Promise((resolve) => {
    if (h.closed()) return resolve(null);
    const check = () => {
      const got = h.received().slice(start);
      const end = got.indexOf('\r\n\r\n');
      if (end !== -1) {
        const length = Number(/content-length: (\d+)/i.exec(got.slice(0, end))?.[1] ?? 0);
        if (got.length >= end + 4 + length) {
          h.socket.off('data', check);
          h.socket.off('close', gone);
          resolve(got.slice(0, got.indexOf('\r\n')) + ' ' + got.slice(end + 4));
        }
      }
    };
    const gone = () => {
      h.socket.off('data', check);
      resolve(null);
    };
    h.socket.on('data', check);
    h.socket.once('close', gone);
    h.socket.write(request);
  });
}

const health = 'GET /health HTTP/1.1\r\nhost: x\r\n\r\n';
const produce = (n: number) => {
  const body = JSON.stringify({ topic: 'capped', payload: { n }, partition: 0 });
  return `POST /produce HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

/**
 * --max-connections against a real broker: a client opening sockets in a loop cannot take more than
 * the cap. The excess is closed as it is accepted (no byte is read from it or written to it), the
 * connections already open keep working, and once they are released the broker answers again.
 */
describe('REST connections past --max-connections', () => {
  let cluster: TestCluster;
  let url: string;
  let port: number;

  before(async () => {
    cluster = await TestCluster.start({ brokers: 1, partitions: 1, extra: ['--max-connections', String(MAX_CONNECTIONS)] });
    url = (await cluster.waitForLeader()).broker.url;
    port = Number(new URL(url).port);
    assert.equal((await post(url, '/produce', { topic: 'capped', payload: 'before', partition: 0 })).status, 200);
  });
  after(async () => {
    await cluster?.stop();
  });

  test('the excess of a flood is closed at accept and logged; the open connections are still served; released slots serve again', async () => {
    const flood = await Promise.all(Array.from({ length: 3 * MAX_CONNECTIONS }, () => open(port)));
    try {
      // Every connection asks for /health: the ones the broker kept answer 200, the others were closed unread.
      const answers = await Promise.all(flood.map((h) => ask(h, health)));
      const served = flood.filter((_, i) => answers[i] !== null);
      const refused = flood.filter((_, i) => answers[i] === null);
      assert.ok(served.length <= MAX_CONNECTIONS, `${served.length} connections served, over the cap of ${MAX_CONNECTIONS}`);
      assert.ok(served.length >= MAX_CONNECTIONS - HARNESS_SLACK, `only ${served.length} of ${MAX_CONNECTIONS} connections served`);
      for (const [i, a] of answers.entries()) if (a !== null) assert.match(a, /^HTTP\/1\.1 200 /, `connection ${i}: ${a}`);
      // Closed at accept: nothing was answered on them, not even an error.
      for (const h of refused) assert.equal(h.received(), '', 'a refused connection got bytes');
      assert.ok(refused.length >= 2 * MAX_CONNECTIONS, `${refused.length} of ${flood.length} closed`);

      // The connections the broker kept go on working, for writes too, while the cap is reached.
      const write = await ask(served[0]!, produce(1));
      assert.match(write ?? '(closed)', /^HTTP\/1\.1 200 .*"offset":1/);
      const metrics = await ask(served[1]!, 'GET /metrics?format=prometheus HTTP/1.1\r\nhost: x\r\n\r\n');
      const count = Number(/^yak_http_refused_total\{reason="connection_limit"\} (\d+)$/m.exec(metrics ?? '')?.[1] ?? 0);
      assert.ok(count >= refused.length, `yak_http_refused_total{reason="connection_limit"} is ${count}, ${refused.length} were refused`);
      // One line for the flood (at most one per 10 s), with the count.
      const lines = cluster.brokers[0]!.output.filter((l) => l.includes('at accept'));
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0]!, /WARN .*http: closed a new connection from 127\.0\.0\.1:\d+ at accept: 16 connections are open \(--max-connections\); 1 refused in all/);
    } finally {
      for (const h of flood) h.socket.destroy();
    }

    // Released: new connections are accepted again (the broker notices the closes asynchronously).
    await waitFor('a new connection answered after the flood', async () => (await fetch(new URL('/health', url)).catch(() => null))?.status === 200, 20_000);
    assert.equal((await get(url, '/health')).status, 200);
    const after = await post(url, '/produce', { topic: 'capped', payload: 'after', partition: 0 });
    assert.equal(after.status, 200, after.text);
    assert.equal(after.body.offset, 2);
    const records = (await get(url, '/consume?topic=capped&partition=0&offset=0')).body.records as { payload: unknown }[];
    assert.deepEqual(records.map((r) => r.payload), ['before', { n: 1 }, 'after']);
  });
});

/**
 * Not fixed (attack review, 2026-11-29): the cap is per listener, not per peer, and replication
 * shares the REST port. Whoever can reach a follower's port and holds --max-connections sockets
 * (reopening each as node's 66 s headers timeout closes it) makes the follower drop the leader's
 * new replication stream *and* its POST fallback at accept: a follower restarted during the flood
 * never rejoins the in-sync set (an established stream keeps its slot and is not affected), so with
 * --min-insync 2 produce answers 503 for as long as the flood lasts. Nothing is lost or changed.
 * Fix to consider: reserve a few slots that only a connection whose first request proves the frame
 * key (x-yak-frame-sender on GET /replica/stream or POST /replica/append) may keep — e.g. accept
 * past the cap up to a small margin, read the first request head with a short timeout, and close
 * the socket unless it is a proven replication request — or a separate replication listener.
 */
describe('REST connection cap and replication', () => {
  test.todo('a follower restarted while a flood holds every --max-connections slot still receives the leader\'s frames and rejoins the in-sync set');
});
