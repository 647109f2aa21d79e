import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTER_API_CALLS } from '../../../src/shared/cluster-api.js';
import { dispatchCall, type ClusterCalls } from '../../../src/main/api/dispatch.js';
import { ApiError, toCallFailure } from '../../../src/main/api/errors.js';
import { VALIDATORS } from '../../../src/main/api/validate.js';

/** Records what reached the supervisor: a refused call must reach nothing. */
function recordingApi(): { api: ClusterCalls; calls: { method: string; args: unknown[] }[] } {
  const calls: { method: string; args: unknown[] }[] = [];
  const api = Object.fromEntries(
    CLUSTER_API_CALLS.map((m) => [m, async (...args: unknown[]) => void calls.push({ method: m, args })]),
  ) as unknown as ClusterCalls;
  return { api, calls };
}

async function refusal(method: string, args: unknown): Promise<string> {
  const { api, calls } = recordingApi();
  try {
    await dispatchCall(api, method, args);
  } catch (err) {
    assert.equal(calls.length, 0, 'a refused call must not reach the supervisor');
    assert.ok(err instanceof ApiError);
    return `${err.code}: ${err.message}`;
  }
  assert.fail(`${method}(${JSON.stringify(args)}) was accepted`);
}

describe('ClusterApi argument validation (shared by the IPC and web hosts)', () => {
  it('has a validator for every call of the contract', () => {
    assert.deepEqual(Object.keys(VALIDATORS).sort(), [...CLUSTER_API_CALLS].sort());
  });

  it('passes well-formed arguments through, with failover defaults filled in', async () => {
    const { api, calls } = recordingApi();
    await dispatchCall(api, 'produce', [{ topic: 'orders', key: 'k1', payload: { a: [1, 'x', null, true] }, headers: { h: 'v' } }]);
    await dispatchCall(api, 'consume', [{ topic: 'orders', partition: 2, offset: 'latest', max: 10, waitMs: 500 }]);
    await dispatchCall(api, 'simulateFailover', [{ mode: 'pause' }]);
    await dispatchCall(api, 'brokerAction', ['redis', 'restart']);
    await dispatchCall(api, 'updateSettings', [{ leaseSeconds: 3, externalRedisUrl: 'redis://10.0.0.5:6379' }]);
    assert.deepEqual(calls.map((c) => c.method), ['produce', 'consume', 'simulateFailover', 'brokerAction', 'updateSettings']);
    assert.deepEqual(calls[2]!.args, [{ mode: 'pause', restartOldLeader: true, demoProducer: true }]);
  });

  it('accepts any JSON value as a payload, null included', async () => {
    for (const payload of [null, 0, 'text', [1, 2], { nested: { deep: [{}] } }, false]) {
      const { api, calls } = recordingApi();
      await dispatchCall(api, 'produce', [{ topic: 't', payload }]);
      assert.equal(calls.length, 1);
    }
  });

  const cases: [string, unknown[], RegExp][] = [
    ['getSnapshot', ['extra'], /takes 0 argument/],
    ['produce', [{ topic: 'bad topic!', payload: 1 }], /request\.topic must be 1-249 characters/],
    ['produce', [{ topic: 't' }], /request\.payload is required/],
    ['produce', [{ topic: 't', payload: 1, colour: 'red' }], /unknown field 'colour'/],
    ['produce', [{ topic: 't', payload: Number.NaN }], /not a JSON number/],
    ['produce', [{ topic: 't', payload: new Map() }], /must be a JSON value/],
    ['produce', [{ topic: 't', payload: { when: new Date() } }], /request\.payload\.when must be a JSON value/],
    ['produce', [{ topic: 't', payload: 1, partition: -1 }], /request\.partition must be an integer/],
    ['produce', [{ topic: 't', payload: 1, headers: { a: 1 } }], /request\.headers\.a must be a string/],
    ['produce', [{ topic: 't', payload: 'x'.repeat(1_100_000) }], /^MESSAGE_TOO_LARGE: the record is 1100002 bytes .*over the limit of 1048576/],
    ['produceBatch', ['t', [{ payload: 1 }, { payload: 'y'.repeat(1_048_600) }]], /^MESSAGE_TOO_LARGE: records\[1\] is 1048602 bytes/],
    ['produceBatch', ['t', []], /1 to 10000 records/],
    ['produceBatch', ['t', [{ payload: 1 }, { key: 3, payload: 1 }]], /records\[1\]\.key must be a string/],
    ['consume', [{ topic: 't', partition: 0, offset: -5 }], /request\.offset must be an integer/],
    ['consume', [{ topic: 't', partition: 0, offset: 'first' }], /'earliest' or 'latest'/],
    ['consume', [{ topic: 't', partition: 0, offset: 0, waitMs: 60_000 }], /request\.waitMs must be an integer from 0 to 30000/],
    ['brokerAction', ['broker-1', 'explode'], /action must be one of 'start', 'stop'/],
    ['brokerAction', ['../etc', 'kill'], /brokerId must be 'redis' or a broker id/],
    ['removeBroker', ['redis'], /brokerId must be a broker id/],
    ['updateSettings', [{ brokerCount: 9 }], /settings\.brokerCount must be an integer from 1 to 7/],
    ['updateSettings', [{ externalRedisUrl: 'http://x' }], /must start with redis:\/\//],
    ['simulateFailover', [{ mode: 'nuke' }], /options\.mode must be one of 'kill', 'pause'/],
    ['createTopic', ['t', 0], /partitions must be an integer from 1 to 64/],
    ['produceOnBroker', ['redis', [{ topic: 't', payload: 1 }]], /brokerId must be a broker id/],
    ['produceOnBroker', ['broker-1', [{ topic: 't', payload: 1 }], 90_000], /timeoutMs must be an integer from 100 to 60000/],
    ['produceOnBroker', ['broker-1', [{ topic: '../x', payload: 1 }]], /request\.topic must be/],
    ['produceOnBroker', ['broker-1', { topic: 't', payload: 1 }], /requests must be an array of 1 to 100/],
    ['produceOnBroker', ['broker-1', []], /requests must be an array of 1 to 100/],
    ['startGroupMembers', [{ group: 'g', topic: 't', count: 0 }], /request\.count must be an integer from 1 to 8/],
    ['startGroupMembers', [{ group: 'a/b', topic: 't', count: 1 }], /request\.group must be 1-249 characters/],
    ['startGroupMembers', [{ group: 'g', topic: '__consumer_offsets', count: 1 }], /internal topics/],
    ['startGroupMembers', [{ group: 'g', topic: 't', count: 1, strategy: 'greedy' }], /request\.strategy must be one of 'range', 'roundrobin', 'sticky'/],
    ['startGroupMembers', [{ group: 'g', topic: 't', count: 1, sessionTimeoutMs: 100 }], /request\.sessionTimeoutMs must be an integer from 500 to 60000/],
    ['startGroupMembers', [{ group: 'g', topic: 't', count: 1, colour: 'red' }], /unknown field 'colour'/],
    ['groupMemberAction', ['broker-1', 'stop'], /name must be a member's name/],
    ['groupMemberAction', ['member-1', 'kill'], /action must be one of 'stop', 'freeze', 'resume'/],
    ['stopGroupMembers', [''], /group must be 1-249 characters/],
    ['describeGroup', ['..'], /group must be 1-249 characters/],
    ['nonsense', [], /is not a ClusterApi call/],
  ];
  for (const [method, args, expected] of cases) {
    it(`refuses ${method}(${JSON.stringify(args).slice(0, 60)}) saying what is wrong`, async () => {
      assert.match(await refusal(method, args), expected);
    });
  }

  it('refuses args that are not an array', async () => {
    assert.match(await refusal('getSettings', { 0: 1 }), /args must be an array/);
  });

  it('maps refusals and broker errors to status and body once', () => {
    assert.deepEqual(toCallFailure(new ApiError('INVALID_ARGUMENT', 'nope')), { status: 400, body: { error: 'INVALID_ARGUMENT', message: 'nope' } });
    const brokerError = Object.assign(new Error('3 in-sync, 4 required'), { code: 'NOT_ENOUGH_REPLICAS', status: 503 });
    assert.deepEqual(toCallFailure(brokerError), { status: 503, body: { error: 'NOT_ENOUGH_REPLICAS', message: '3 in-sync, 4 required' } });
    const noAnswer = Object.assign(new Error('connection refused'), { code: 'CONNECTION_FAILED', status: 0 });
    assert.equal(toCallFailure(noAnswer).status, 502);
    assert.equal(toCallFailure(new TypeError('boom')).body.error, 'INTERNAL');
  });

  it('measures a record as the broker does (payload JSON + key + headers) and answers 413 MESSAGE_TOO_LARGE above 1 MiB', async () => {
    const limit = 1_048_576;
    // A string payload's JSON text is the string plus its two quotes.
    const fits = { topic: 't', key: 'kk', payload: 'x'.repeat(limit - 2 - 2 - 9), headers: { a: 'b' } }; // {"a":"b"} is 9 bytes
    const { api, calls } = recordingApi();
    await dispatchCall(api, 'produce', [fits]);
    assert.equal(calls.length, 1);
    const over = { ...fits, key: 'kkk' };
    const message = await refusal('produce', [over]);
    assert.match(message, /^MESSAGE_TOO_LARGE: the record is 1048577 bytes/);
    try {
      await dispatchCall(recordingApi().api, 'produce', [over]);
    } catch (err) {
      assert.equal(toCallFailure(err).status, 413);
    }
  });
});
