import assert from 'node:assert/strict';
import { register } from 'node:module';
import { describe, it } from 'node:test';
import { CLUSTER_API_CALLS, type ClusterApi } from '../../../src/shared/cluster-api.js';

/** The preload against a stand-in `electron` module: what window.yak is, and how it behaves. */
register('./fake-electron/hooks.mjs', import.meta.url);

interface Fake {
  exposed: Map<string, ClusterApi>;
  rendererListeners: Map<string, Set<(event: unknown, value: unknown) => void>>;
  invoke: (channel: string, ...args: unknown[]) => Promise<unknown>;
}
const fake = () => (globalThis as unknown as { __fakeElectron: Fake }).__fakeElectron;

describe('preload: window.yak', () => {
  it('exposes exactly one object, yak, with every ClusterApi call plus onSnapshot/onEvent', async () => {
    await import('../../../src/preload/index.js');
    assert.deepEqual([...fake().exposed.keys()], ['yak']);
    assert.deepEqual(Object.keys(fake().exposed.get('yak')!).sort(), [...CLUSTER_API_CALLS, 'onEvent', 'onSnapshot'].sort());
  });

  it('invokes yak:<method> with the arguments, and turns the answer envelope into a value or an Error', async () => {
    const yak = fake().exposed.get('yak')!;
    const seen: unknown[][] = [];
    fake().invoke = async (channel, ...args) => {
      seen.push([channel, ...args]);
      return channel === 'yak:produce' ? { error: 'INVALID_ARGUMENT', message: 'request.topic must be 1-249 characters' } : { result: { brokerCount: 3 } };
    };
    assert.deepEqual(await yak.getSettings(), { brokerCount: 3 });
    await assert.rejects(yak.produce({ topic: 'bad topic', payload: 1 }), { name: 'INVALID_ARGUMENT', message: 'request.topic must be 1-249 characters' });
    assert.deepEqual(seen, [['yak:getSettings'], ['yak:produce', { topic: 'bad topic', payload: 1 }]]);
  });

  it('delivers pushed snapshots without the IPC event, until unsubscribed', async () => {
    const yak = fake().exposed.get('yak')!;
    const got: unknown[] = [];
    const off = yak.onSnapshot((s) => got.push(s));
    const listeners = fake().rendererListeners.get('yak:snapshot')!;
    for (const l of listeners) l({ sender: 'secret' }, { at: 1 });
    off();
    assert.equal(listeners.size, 0);
    assert.deepEqual(got, [{ at: 1 }]);
  });
});
