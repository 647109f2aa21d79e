import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrokerService } from '../../../broker-runtime/src/broker/service.js';
import {
  notEnoughReplicas,
  notLeader,
  timeout,
  topicExists,
  unavailable,
  unknownPartition,
  unknownTopic,
} from '../../../broker-runtime/src/errors/errors.js';
import { request, startServer, stubService } from './stub-service.js';

const PRODUCE = { method: 'POST', body: JSON.stringify({ topic: 't', payload: 1 }) };

/** A server whose service fails every call with `err`; runs `check` against it. */
async function withFailingService(err: unknown, check: (base: string, logged: string[]) => Promise<void>): Promise<void> {
  const fail = async () => {
    throw err;
  };
  const failSync = () => {
    throw err;
  };
  const overrides: Partial<BrokerService> = {
    produce: fail,
    consume: fail,
    createTopic: fail,
    cluster: fail,
    replicate: fail,
    topics: failSync,
    health: failSync,
  };
  const server = await startServer(stubService(overrides).service);
  try {
    await check(server.base, server.logged);
  } finally {
    await server.close();
  }
}

describe('HTTP error mapping', () => {
  test('NOT_LEADER is 421 and names the leader', async () => {
    await withFailingService(notLeader({ id: 'b2', url: 'http://127.0.0.1:5002' }), async (base) => {
      const res = await request(`${base}/produce`, PRODUCE);
      assert.equal(res.status, 421);
      assert.equal(res.json['error'], 'NOT_LEADER');
      assert.deepEqual(res.json['leader'], { id: 'b2', url: 'http://127.0.0.1:5002' });
    });
  });

  test('NOT_LEADER with no known leader carries leader: null', async () => {
    await withFailingService(notLeader(null), async (base) => {
      const res = await request(`${base}/produce/batch`, { method: 'POST', body: JSON.stringify({ topic: 't', records: [{ payload: 1 }] }) });
      assert.equal(res.status, 421);
      assert.equal(res.json['leader'], null);
    });
  });

  const cases: [string, unknown, string, number, string][] = [
    ['UNKNOWN_TOPIC', unknownTopic('t'), '/consume?topic=t&partition=0&offset=0', 404, 'GET'],
    ['UNKNOWN_PARTITION', unknownPartition('t', 9, 3), '/consume?topic=t&partition=9&offset=0', 404, 'GET'],
    ['NOT_ENOUGH_REPLICAS', notEnoughReplicas(1, 2), '/produce', 503, 'POST'],
    ['TIMEOUT', timeout('not committed in time'), '/produce', 504, 'POST'],
    ['UNAVAILABLE', unavailable('shutting down'), '/produce', 503, 'POST'],
    ['TOPIC_EXISTS', topicExists('t'), '/topics', 409, 'POST'],
  ];
  for (const [code, err, path, status, method] of cases) {
    test(`${code} thrown by the service is ${status} ${code}`, async () => {
      await withFailingService(err, async (base) => {
        const body = path === '/topics' ? JSON.stringify({ name: 't', partitions: 1 }) : PRODUCE.body;
        const res = await request(base + path, method === 'POST' ? { method, body } : {});
        assert.equal(res.status, status, res.text);
        assert.equal(res.json['error'], code);
        assert.equal(typeof res.json['message'], 'string');
      });
    });
  }

  test('NOT_ENOUGH_REPLICAS carries its extra fields', async () => {
    await withFailingService(notEnoughReplicas(1, 2), async (base) => {
      const res = await request(`${base}/produce`, PRODUCE);
      assert.equal(res.json['in_sync'], 1);
      assert.equal(res.json['min_insync'], 2);
    });
  });

  test('a plain Error is 500 INTERNAL with a generic message and no stack, and is logged', async () => {
    const bug = new Error('secret detail at /home/broker/file.ts:12');
    await withFailingService(bug, async (base, logged) => {
      for (const [path, init] of [
        ['/produce', PRODUCE],
        ['/consume?topic=t&partition=0&offset=0', {}],
        ['/metadata/cluster', {}],
        ['/topics', {}],
        ['/health', {}],
      ] as const) {
        const res = await request(base + path, init);
        assert.equal(res.status, 500, path);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(res.json['error'], 'INTERNAL');
        assert.doesNotMatch(res.text, /secret|at |\.ts|<html/i, path);
      }
      assert.equal(logged.length, 5);
      assert.match(logged[0] ?? '', /secret detail/);
    });
  });

  test('a thrown non-Error value is 500 INTERNAL too', async () => {
    await withFailingService('just a string', async (base, logged) => {
      const res = await request(`${base}/produce`, PRODUCE);
      assert.equal(res.status, 500);
      assert.equal(res.json['error'], 'INTERNAL');
      assert.match(logged[0] ?? '', /just a string/);
    });
  });
});
