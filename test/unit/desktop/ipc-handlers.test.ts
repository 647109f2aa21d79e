import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTER_API_CALLS } from '../../../src/shared/cluster-api.js';
import type { ClusterCalls } from '../../../src/main/api/dispatch.js';
import { createIpcHandlers, ipcChannel, type InvokeEvent } from '../../../src/main/host/ipc-handlers.js';
import { trustedUrlCheck } from '../../../src/main/host/trusted-origin.js';

const fromApp: InvokeEvent = { senderFrame: { url: 'app://yak/index.html' } };

function table() {
  const seen: string[] = [];
  const api = Object.fromEntries(CLUSTER_API_CALLS.map((m) => [m, async () => void seen.push(m)])) as unknown as ClusterCalls;
  return { handlers: createIpcHandlers(api, trustedUrlCheck('http://localhost:5173')), seen };
}

describe('IPC handler table (what ipcMain.handle registers)', () => {
  it('has exactly one handler per ClusterApi call, on yak:<method>', () => {
    const { handlers } = table();
    assert.deepEqual([...handlers.keys()].sort(), CLUSTER_API_CALLS.map((m) => `yak:${m}`).sort());
  });

  it('answers {result} to our own page and to the dev server', async () => {
    const { handlers, seen } = table();
    assert.deepEqual(await handlers.get(ipcChannel('getSettings'))!(fromApp), { result: null });
    assert.deepEqual(await handlers.get(ipcChannel('listTopics'))!({ senderFrame: { url: 'http://localhost:5173/' } }), { result: null });
    assert.deepEqual(seen, ['getSettings', 'listTopics']);
  });

  it('refuses frames that are not ours: remote pages, file://, other app hosts, a frame that is gone', async () => {
    const { handlers, seen } = table();
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html', 'http://localhost:5174/']) {
      const answer = await handlers.get(ipcChannel('stopCluster'))!({ senderFrame: { url } });
      assert.deepEqual(Object.keys(answer), ['error', 'message']);
      assert.equal((answer as { error: string }).error, 'FORBIDDEN');
    }
    const gone = await handlers.get(ipcChannel('stopCluster'))!({ senderFrame: null });
    assert.equal((gone as { error: string }).error, 'FORBIDDEN');
    assert.deepEqual(seen, []);
  });
});
