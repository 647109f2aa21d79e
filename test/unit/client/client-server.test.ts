import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { YakClient, YakClientError } from '../../../broker-runtime/src/client/index.js';
import type { ConsumedRecord } from '../../../broker-runtime/src/broker/service.js';
import { notLeader, unknownTopic } from '../../../broker-runtime/src/errors/errors.js';
import { startServer, stubService } from '../http/stub-service.js';

/** The client and the real HTTP layer agree on the wire (the broker behind it is a stub). */
describe('YakClient against the broker HTTP layer', () => {
  test('produce, batch and consume round-trip payloads of every JSON type', async () => {
    let self = '';
    const log: ConsumedRecord[] = [];
    const stub = stubService({
      leader: () => ({ leader: { id: 'b1', url: self }, epoch: 1 }),
      async produce(_topic, records) {
        return records.map((r) => {
          log.push({ offset: log.length, key: r.key, payload: r.payload, timestamp: 1, headers: r.headers });
          return { partition: 0, offset: log.length - 1 };
        });
      },
    });
    const server = await startServer(stub.service, 64 * 1024);
    self = server.base;
    try {
      const client = new YakClient({ brokers: [server.base], retry: { retries: 2, minDelayMs: 5, maxDelayMs: 5 } });
      const payloads: unknown[] = [{ a: { b: [1, 'two'] } }, ['x', null], 'plain "text"', -12.5, null, false];
      assert.deepEqual(await client.produce('t', { key: 'k', payload: payloads[0], headers: { h: 'v' } }), { topic: 't', partition: 0, offset: 0 });
      const batch = await client.produceBatch('t', payloads.slice(1).map((payload) => ({ payload })));
      assert.deepEqual(batch.results.map((r) => r.offset), [1, 2, 3, 4, 5]);
      stub.stored.push(...log);
      const page = await client.consume('t', 0, 0, { max: 100 });
      assert.deepEqual(page.records.map((r) => r.payload), payloads);
      assert.equal(page.records[0]?.key, 'k');
      assert.deepEqual(page.records[0]?.headers, { h: 'v' });
      assert.equal(page.next_offset, payloads.length);
    } finally {
      await server.close();
    }
  });

  test('a NOT_LEADER answer from the real HTTP layer is followed to the named leader', async () => {
    const leader = await startServer(stubService().service);
    let self = '';
    // A deposed leader that has not noticed yet: it names itself, then refuses the write.
    const stale = await startServer(
      stubService({
        leader: () => ({ leader: { id: 'b0', url: self }, epoch: 2 }),
        produce: async () => Promise.reject(notLeader({ id: 'b1', url: leader.base })),
      }).service,
    );
    self = stale.base;
    try {
      const client = new YakClient({ brokers: [stale.base], retry: { retries: 5, minDelayMs: 5, maxDelayMs: 5 } });
      assert.deepEqual(await client.produce('t', { payload: 1 }), { topic: 't', partition: 0, offset: 100 });
      assert.equal(client.knownLeader, leader.base);
    } finally {
      await Promise.all([leader.close(), stale.close()]);
    }
  });

  test('UNKNOWN_TOPIC from the HTTP layer reaches the caller as a non-retriable YakClientError', async () => {
    const server = await startServer(stubService({ consume: async (topic) => Promise.reject(unknownTopic(topic)) }).service);
    try {
      const client = new YakClient({ brokers: [server.base] });
      await assert.rejects(client.consume('nope', 0, 0), (err: unknown) => {
        assert.ok(err instanceof YakClientError);
        assert.equal(err.code, 'UNKNOWN_TOPIC');
        assert.equal(err.status, 404);
        assert.equal(err.retriable, false);
        return true;
      });
    } finally {
      await server.close();
    }
  });
});
