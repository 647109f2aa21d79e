import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCoordinator, type CoordinatorHost } from '../../../broker-runtime/src/groups/coordinator.js';
import type { StoredRecord } from '../../../broker-runtime/src/groups/offsets-log.js';
import { YAK_PROTOCOL_TYPE, encodeSubscription } from '../../../broker-runtime/src/groups/rest-protocol.js';
import { YakError } from '../../../broker-runtime/src/errors/errors.js';

/**
 * Security review: member ids are shown to every principal by GET /groups/{group}, so a member id
 * is no secret. A member belongs to the principal that joined it: another principal naming it
 * (heartbeat, commit, leave, sync, join again) is refused FORBIDDEN and changes nothing — also
 * after a failover, when the group is rebuilt from the offsets topic.
 */
function world() {
  const log: StoredRecord[] = [];
  const host: CoordinatorHost = {
    now: () => 1_000_000,
    append: async (records) => void log.push(...records),
    readOffsetsTopic: async function* () {
      for (const r of [...log]) yield r.payload;
    },
    partitionCount: (t) => (t === 't' ? 2 : undefined),
    highWatermark: () => 100,
    logStartOffset: () => 0,
    offsetForTimestamp: async () => 0,
    notCoordinator: () => YakError.of('NOT_LEADER', 'not the leader'),
    log: () => {},
  };
  const make = async () => {
    const c = new GroupCoordinator(host, { tickMs: 0 });
    c.activate();
    while (!c.isActive()) await new Promise((r) => setImmediate(r));
    return c;
  };
  return { log, make };
}

const join = (memberId: string, principal: string | undefined) => ({
  group: 'g',
  memberId,
  clientId: 'c',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 1000,
  protocolType: YAK_PROTOCOL_TYPE,
  protocols: [{ name: 'range', metadata: encodeSubscription(['t']) }],
  ...(principal !== undefined ? { principal } : {}),
});

const code = (f: () => unknown) => Promise.resolve().then(f).then(() => 'ok', (e: YakError) => e.code);

for (const rebuilt of [false, true]) {
  test(`another principal cannot heartbeat, commit, sync, rejoin as or remove alice's member${rebuilt ? ' (after a failover rebuild)' : ''}`, async () => {
    const w = world();
    let c = await w.make();
    const a = await c.join(join('', 'alice'));
    await c.commit({ group: 'g', memberId: a.memberId, generation: a.generation, principal: 'alice', offsets: [{ topic: 't', partition: 0, offset: 5 }] });
    if (rebuilt) c = await w.make();
    const written = w.log.length;
    assert.equal(await code(() => c.heartbeat('g', a.memberId, a.generation, 'mallory')), 'FORBIDDEN');
    assert.equal(await code(() => c.commit({ group: 'g', memberId: a.memberId, generation: a.generation, principal: 'mallory', offsets: [{ topic: 't', partition: 0, offset: 99 }] })), 'FORBIDDEN');
    assert.equal(await code(() => c.sync({ group: 'g', memberId: a.memberId, generation: a.generation, principal: 'mallory' })), 'FORBIDDEN');
    assert.equal(await code(() => c.join(join(a.memberId, 'mallory'))), 'FORBIDDEN');
    assert.equal(await code(() => c.leave('g', a.memberId, 'mallory')), 'FORBIDDEN');
    assert.equal(w.log.length, written, 'nothing written');
    const view = c.describe('g');
    assert.deepEqual(view.members.map((m) => m.member_id), [a.memberId], 'alice is still the member');
    assert.equal(view.offsets.find((o) => o.partition === 0)?.committed_offset, 5, 'her offset unchanged');
    // Alice herself still can.
    assert.equal(await code(() => c.heartbeat('g', a.memberId, a.generation, 'alice')), 'ok');
    assert.equal(await code(() => c.leave('g', a.memberId, 'alice')), 'ok');
  });
}

test('without an auth file (no principals) members work as before', async () => {
  const w = world();
  const c = await w.make();
  const a = await c.join(join('', undefined));
  assert.equal(await code(() => c.heartbeat('g', a.memberId, a.generation)), 'ok');
  assert.equal(await code(() => c.leave('g', a.memberId)), 'ok');
});

test("a group's members' metadata cannot outgrow the one record its generation is written as (every join after the limit is refused, the group keeps working)", async () => {
  const { groupRecord } = await import('../../../broker-runtime/src/groups/offsets-log.js');
  const { MAX_RECORD_LENGTH } = await import('../../../broker-runtime/src/log/record-codec.js');
  const w = world();
  const c = await w.make();
  const metadata = Buffer.alloc(60 * 1024, 7); // under the 64 KiB a protocol may carry
  const refused: string[] = [];
  for (let i = 0; i < 1000; i++) {
    c.join({ group: 'big', memberId: '', clientId: 'c', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 1000, protocolType: 'consumer', protocols: [{ name: 'range', metadata }] }).catch((e: YakError) => refused.push(e.code));
  }
  await new Promise((r) => setImmediate(r));
  assert.ok(refused.length > 0, 'some joins are refused');
  assert.ok(refused.every((code) => code === 'INVALID_REQUEST'), refused.join());
  const g = (c as unknown as { groups: Map<string, Parameters<typeof groupRecord>[0]> }).groups.get('big')!;
  const record = groupRecord(g);
  assert.ok(record.payload.length + record.key.length < MAX_RECORD_LENGTH / 2, `the generation record is ${record.payload.length} bytes`);
});
