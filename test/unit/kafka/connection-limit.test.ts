import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { KafkaBackend } from '../../../broker-runtime/src/kafka/backend.js';
import { DEFAULT_MAX_CONNECTIONS } from '../../../broker-runtime/src/kafka/connection-limit.js';
import { createKafkaServer, type KafkaListener } from '../../../broker-runtime/src/kafka/server.js';
import type { LogFields, LogLevel } from '../../../broker-runtime/src/logger.js';
import { KafkaWire } from '../../../testkit/kafka-wire.js';

/**
 * --kafka-max-connections: past the cap a new connection is closed as it is accepted, with a log
 * line (at most one per 10 s, counting the refused); the open ones go on being answered, and once
 * one closes a new one is accepted again. The listener is the real one on a real socket; the
 * backend is never reached (ApiVersions only).
 */
const API_VERSIONS = 18;
let listener: KafkaListener;
let port: number;
const lines: { level: LogLevel; line: string; event?: string; fields?: LogFields }[] = [];

before(async () => {
  listener = createKafkaServer({ backend: {} as KafkaBackend, auth: null, maxConnections: 3, log: (level, line, event, fields) => lines.push({ level, line, event, fields }) });
  await new Promise<void>((r) => listener.server.listen(0, '127.0.0.1', () => r()));
  port = (listener.server.address() as net.AddressInfo).port;
});
after(() => listener.close());

/** Resolves true when `socket` is closed by the other end within `ms` (a connection refused at accept). */
function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

const answers = async (w: KafkaWire) => (await w.request(API_VERSIONS, 0, Buffer.alloc(0))).int16() === 0;

test('the default cap is 256 connections', () => {
  assert.equal(DEFAULT_MAX_CONNECTIONS, 256);
});

test('past --kafka-max-connections a connection is closed at accept and logged; the open ones are still answered; a freed slot is taken again', async () => {
  const open = await Promise.all([1, 2, 3].map(() => KafkaWire.connect(port)));
  for (const w of open) assert.ok(await answers(w));

  const extra = [1, 2, 3].map(() => net.connect(port, '127.0.0.1'));
  for (const s of extra) s.on('error', () => {});
  const closed = await Promise.all(extra.map((s) => closedWithin(s, 5000)));
  assert.deepEqual(closed, [true, true, true]);

  const refused = lines.filter((l) => l.event === 'kafka.connection_refused');
  assert.equal(refused.length, 1, 'one line for a burst, not one per connection');
  assert.equal(refused[0]!.level, 'warn');
  assert.match(refused[0]!.line, /3 connections are open \(--kafka-max-connections\)/);
  assert.equal(refused[0]!.fields?.max_connections, 3);

  for (const w of open) assert.ok(await answers(w), 'the open connections are untouched');

  open[0]!.close();
  await open[0]!.closed;
  // The server counts the closed socket out once its close is handled: try until it is.
  let again: KafkaWire | null = null;
  for (let i = 0; i < 50 && again === null; i++) {
    const w = await KafkaWire.connect(port);
    const gone = await Promise.race([w.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
    if (gone) continue;
    again = w;
  }
  assert.ok(again, 'a new connection is accepted once one closed');
  assert.ok(await answers(again));
  again.close();
  for (const w of open.slice(1)) w.close();
});
