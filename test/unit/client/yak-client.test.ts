import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { YakClient, YakClientError, YakRetriesExhaustedError } from '../../../broker-runtime/src/client/index.js';
import { freePort, leaderAnswer, stubBroker } from './stub-broker.js';

const FAST = { retries: 5, minDelayMs: 5, maxDelayMs: 20 };
const PRODUCED = (offset = 0): [number, unknown] => [200, { topic: 't', partition: 0, offset }];

describe('YakClient', () => {
  test('finds the leader through a seed, then produces to it', async () => {
    const leader = await stubBroker(({ path }) => (path === '/produce' ? PRODUCED(7) : leaderAnswer('unused')));
    const seed = await stubBroker(() => leaderAnswer(leader.url));
    try {
      const client = new YakClient({ brokers: [seed.url], retry: FAST });
      assert.deepEqual(await client.produce('t', { key: 'k', payload: { a: 1 }, headers: { h: 'v' } }), { topic: 't', partition: 0, offset: 7 });
      assert.equal(client.knownLeader, leader.url);
      assert.deepEqual(leader.hits[0]?.body, { topic: 't', key: 'k', payload: { a: 1 }, headers: { h: 'v' } });
      await client.produce('t', { payload: 2 });
      assert.equal(seed.hits.length, 1, 'the leader is cached, not rediscovered per request');
    } finally {
      await Promise.all([leader.close(), seed.close()]);
    }
  });

  test('follows 421 NOT_LEADER to the leader it names, at once', async () => {
    const realLeader = await stubBroker(() => PRODUCED(3));
    // The stale broker still believes it leads, then refuses the write and names the real leader.
    const stale = await stubBroker(({ path }) =>
      path === '/metadata/leader' ? leaderAnswer(staleUrl) : [421, { error: 'NOT_LEADER', message: 'not me', leader: { id: 'b2', url: realLeader.url } }],
    );
    const staleUrl = stale.url;
    try {
      const client = new YakClient({ brokers: [stale.url], retry: { retries: 3, minDelayMs: 5_000, maxDelayMs: 5_000 } });
      const started = Date.now();
      assert.deepEqual(await client.produceBatch('t', [{ payload: 1 }]), { topic: 't', partition: 0, offset: 3 });
      assert.ok(Date.now() - started < 1_000, 'a redirect is followed without backing off');
      assert.equal(client.knownLeader, realLeader.url);
      assert.deepEqual(realLeader.hits.map((h) => h.path), ['/produce/batch']);
    } finally {
      await Promise.all([realLeader.close(), stale.close()]);
    }
  });

  test('concurrent requests share one leader discovery', async () => {
    const leader = await stubBroker(() => PRODUCED(1));
    const seed = await stubBroker(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return leaderAnswer(leader.url);
    });
    try {
      const client = new YakClient({ brokers: [seed.url], retry: FAST });
      await Promise.all(Array.from({ length: 20 }, (_, i) => client.produce('t', { payload: i })));
      assert.equal(seed.hits.length, 1);
      assert.equal(leader.hits.length, 20);
    } finally {
      await Promise.all([leader.close(), seed.close()]);
    }
  });

  test('two brokers that name each other as leader cannot make the client loop forever', async () => {
    const urls: string[] = [];
    const refuse = (other: number) => ({ path }: { path: string }): [number, unknown] =>
      path === '/metadata/leader'
        ? leaderAnswer(urls[1 - other]!)
        : [421, { error: 'NOT_LEADER', message: 'not me', leader: { id: `b${other}`, url: urls[other] } }];
    const a = await stubBroker(refuse(1));
    const b = await stubBroker(refuse(0));
    urls.push(a.url, b.url);
    try {
      const client = new YakClient({ brokers: [a.url], retry: { retries: 6, minDelayMs: 1, maxDelayMs: 2 } });
      await assert.rejects(client.produce('t', { payload: 1 }), (err: unknown) => {
        assert.ok(err instanceof YakRetriesExhaustedError);
        assert.equal(err.lastError.code, 'NOT_LEADER');
        assert.equal(err.tries, 7);
        return true;
      });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('retries while the connection is refused and succeeds once the broker starts', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const client = new YakClient({ brokers: [url], retry: { retries: 30, minDelayMs: 10, maxDelayMs: 40 } });
    const pending = client.produce('t', { payload: 'late' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const broker = await stubBroker(({ path }) => (path === '/metadata/leader' ? leaderAnswer(url) : PRODUCED(1)), port);
    try {
      assert.deepEqual(await pending, { topic: 't', partition: 0, offset: 1 });
    } finally {
      await broker.close();
    }
  });

  test('retries 503 NOT_ENOUGH_REPLICAS and succeeds when the replicas are back', async () => {
    let refusals = 2;
    const broker = await stubBroker(({ path }) => {
      if (path === '/metadata/leader') return leaderAnswer(broker.url);
      return refusals-- > 0 ? [503, { error: 'NOT_ENOUGH_REPLICAS', message: '1 in-sync, 2 required' }] : PRODUCED(5);
    });
    try {
      const client = new YakClient({ brokers: [broker.url], retry: FAST });
      assert.equal((await client.produce('t', { payload: 1 })).offset, 5);
      assert.equal(broker.hits.filter((h) => h.path === '/produce').length, 3);
    } finally {
      await broker.close();
    }
  });

  test('throws INVALID_REQUEST at once, without retrying', async () => {
    const broker = await stubBroker(({ path }) =>
      path === '/metadata/leader' ? leaderAnswer(broker.url) : [400, { error: 'INVALID_REQUEST', message: 'payload is required' }],
    );
    try {
      const client = new YakClient({ brokers: [broker.url], retry: FAST });
      await assert.rejects(client.produce('t', { payload: undefined }), (err: unknown) => {
        assert.ok(err instanceof YakClientError);
        assert.ok(!(err instanceof YakRetriesExhaustedError));
        assert.equal(err.code, 'INVALID_REQUEST');
        assert.equal(err.status, 400);
        assert.equal(err.retriable, false);
        assert.equal(err.message, 'payload is required');
        assert.deepEqual(err.body, { error: 'INVALID_REQUEST', message: 'payload is required' });
        return true;
      });
      assert.equal(broker.hits.filter((h) => h.path === '/produce').length, 1);
    } finally {
      await broker.close();
    }
  });

  test('gives up after the retry budget with an error that says what was tried', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const client = new YakClient({ brokers: [url], retry: { retries: 3, minDelayMs: 5, maxDelayMs: 10 } });
    await assert.rejects(client.produce('t', { payload: 1 }), (err: unknown) => {
      assert.ok(err instanceof YakRetriesExhaustedError);
      assert.equal(err.code, 'RETRIES_EXHAUSTED');
      assert.equal(err.lastError.code, 'NO_LEADER');
      assert.equal(err.tries, 4, 'first try + 3 retries');
      assert.equal(err.attempts.length, 4, 'each try asked the one seed');
      assert.match(err.message, /POST \/produce gave up after 4 tries/);
      assert.ok(err.message.includes(`${url}/metadata/leader → CONNECTION_FAILED ×4`), err.message);
      return true;
    });
  });

  test('a request with no answer times out and counts as a retriable failure', async () => {
    const silent = await stubBroker(() => new Promise(() => {}));
    try {
      const client = new YakClient({ brokers: [silent.url], timeoutMs: 100, retry: { retries: 1, minDelayMs: 5, maxDelayMs: 5 } });
      await assert.rejects(client.topics(), (err: unknown) => {
        assert.ok(err instanceof YakRetriesExhaustedError);
        assert.equal(err.lastError.code, 'REQUEST_TIMEOUT');
        assert.match(err.message, /GET \/topics gave up after 2 tries/);
        return true;
      });
    } finally {
      await silent.close();
    }
  });

  test('consume asks the named broker with the query the API expects', async () => {
    const broker = await stubBroker(() => [200, { topic: 't', partition: 1, records: [], next_offset: 4, high_watermark: 4 }]);
    try {
      const client = new YakClient({ brokers: ['http://127.0.0.1:1'], retry: FAST });
      const answer = await client.consume('t', 1, 4, { max: 10, waitMs: 50, broker: `${broker.url}/` });
      assert.equal(answer.next_offset, 4);
      assert.equal(broker.hits[0]?.path, '/consume');
      assert.deepEqual(Object.fromEntries(broker.hits[0]?.query ?? []), { topic: 't', partition: '1', offset: '4', max: '10', wait_ms: '50' });
    } finally {
      await broker.close();
    }
  });

  test('reads go to the next seed when one is down', async () => {
    const up = await stubBroker(() => [200, { topics: [] }]);
    try {
      const client = new YakClient({ brokers: [`http://127.0.0.1:${await freePort()}`, up.url], retry: FAST });
      assert.deepEqual(await client.topics(), { topics: [] });
    } finally {
      await up.close();
    }
  });

  test('health and metrics try once: a dead broker is reported at once', async () => {
    const client = new YakClient({ brokers: ['http://127.0.0.1:1'], retry: { retries: 10, minDelayMs: 1_000, maxDelayMs: 1_000 } });
    await assert.rejects(client.health(`http://127.0.0.1:${await freePort()}`), { code: 'CONNECTION_FAILED', status: 0 });
  });

  test('an aborted consume stops with ABORTED instead of retrying', async () => {
    const client = new YakClient({ brokers: [`http://127.0.0.1:${await freePort()}`], retry: { retries: 50, minDelayMs: 50, maxDelayMs: 50 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await assert.rejects(client.consume('t', 0, 0, { signal: controller.signal }), { code: 'ABORTED' });
  });

  test('refuses a configuration without brokers or with a URL that is not http', () => {
    assert.throws(() => new YakClient({ brokers: [] }), TypeError);
    assert.throws(() => new YakClient({ brokers: ['localhost:5001'] }), /not a broker URL/);
    assert.throws(() => new YakClient({ brokers: ['http://x'], retry: { minDelayMs: 100, maxDelayMs: 10 } }), RangeError);
  });
});
