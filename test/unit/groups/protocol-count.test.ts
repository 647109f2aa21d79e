import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCoordinator } from '../../../broker-runtime/src/groups/coordinator.js';
import type { YakError } from '../../../broker-runtime/src/errors/errors.js';
import { idleCoordinatorHost } from '../../helpers/idle-coordinator-host.js';

/**
 * A JoinGroup may list any number of protocols (Kafka consumers list their one to three
 * assignors). Choosing the group's protocol compared every listed name with every other member's
 * list: one member naming 30,000 distinct protocols (~450 KB, well inside one request) cost 450
 * million string comparisons on the leader's event loop, and one 8 MiB request naming 600,000 held
 * it for hours (no lease renewed meanwhile). The coordinator now refuses more than 64 protocols
 * per member, before anything changes.
 */
function coordinator(): GroupCoordinator {
  return new GroupCoordinator(idleCoordinatorHost(), { tickMs: 0 });
}

const join = (protocols: number) => ({
  group: 'g',
  memberId: '',
  clientId: 'c',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 100,
  protocolType: 'consumer',
  protocols: Array.from({ length: protocols }, (_, i) => ({ name: `p${i}`, metadata: Buffer.alloc(0) })),
});

test('a JoinGroup listing 30,000 protocols is refused at once, and the group is not created', async () => {
  const c = coordinator();
  c.activate();
  while (!c.isActive()) await new Promise((r) => setImmediate(r));
  const started = performance.now();
  await assert.rejects(c.join(join(30_000)), (err: YakError) => err.code === 'INVALID_REQUEST' && /at most 64 protocols/.test(err.message));
  assert.ok(performance.now() - started < 1000, `refused in ${Math.round(performance.now() - started)} ms`);
  assert.deepEqual(c.list(), []);
  // The usual few still join.
  const joined = await c.join(join(3));
  assert.equal(joined.protocol, 'p0');
});
