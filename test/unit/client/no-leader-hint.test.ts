import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { YakClient } from '../../../broker-runtime/src/client/index.js';
import { leaderAnswer, stubBroker } from './stub-broker.js';

const FAST = { retries: 6, minDelayMs: 5, maxDelayMs: 20 };

/**
 * Issue 16, item 5: a leader cut from Redis knows no leader any more and used to answer every
 * produce with `421 {leader: null}`; a client seeded with that broker alone asked it again and
 * again. Now the 421 names the brokers it knows of, and discovery asks them too.
 */
describe('a broker that knows no leader', () => {
  test('a client seeded only with it finds the leader among the brokers its 421 names', async () => {
    const real = await stubBroker(({ path }) => (path === '/produce' ? [200, { topic: 't', partition: 0, offset: 9 }] : leaderAnswer(realUrl, 'b2', 8)));
    const realUrl = real.url;
    const cut = await stubBroker(({ path }) =>
      path === '/metadata/leader'
        ? [200, { leader: null, epoch: 7, brokers: [{ id: 'b2', url: realUrl }] }]
        : [421, { error: 'NOT_LEADER', message: 'cannot reach Redis', leader: null, epoch: 7, last_leader: { id: 'b1', url: 'x', epoch: 7 }, brokers: [{ id: 'b2', url: realUrl }], retry_after_ms: 500, redis: false }],
    );
    try {
      const client = new YakClient({ brokers: [cut.url], retry: FAST });
      // The client's first pick is the cut broker itself (cached as leader by an earlier discovery).
      (client as unknown as { leaderUrl: string }).leaderUrl = cut.url;
      assert.deepEqual(await client.produce('t', { payload: 1 }), { topic: 't', partition: 0, offset: 9 });
      assert.equal(client.knownLeader, real.url);
    } finally {
      await Promise.all([real.close(), cut.close()]);
    }
  });

  test('discovery prefers the leader named with the highest epoch over the fastest answer', async () => {
    const newer = await stubBroker(async ({ path }) => {
      if (path === '/produce') return [200, { topic: 't', partition: 0, offset: 1 }];
      await new Promise((r) => setTimeout(r, 30));
      return leaderAnswer(newerUrl, 'b2', 5);
    });
    const newerUrl = newer.url;
    const stale = await stubBroker(({ path }) => (path === '/metadata/leader' ? leaderAnswer(staleUrl, 'b1', 4) : [421, { error: 'NOT_LEADER', message: 'no', leader: null }]));
    const staleUrl = stale.url;
    try {
      const client = new YakClient({ brokers: [stale.url, newer.url], retry: FAST });
      await client.produce('t', { payload: 1 });
      assert.equal(client.knownLeader, newer.url);
      assert.equal(stale.hits.filter((h) => h.path === '/produce').length, 0, 'the stale leader was never asked to write');
    } finally {
      await Promise.all([newer.close(), stale.close()]);
    }
  });
});
