import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_API_CALLS, type ClusterApiCall } from '../../../src/shared/cluster-api.js';
import { Supervisor } from '../../../src/main/supervisor/index.js';
import { createIpcHandlers, ipcChannel, type IpcAnswer } from '../../../src/main/host/ipc-handlers.js';
import { trustedUrlCheck } from '../../../src/main/host/trusted-origin.js';
import { startWebHost, tempDataDir, type WebHost } from '../../helpers/desktop.js';

/**
 * Both hosts serve every ClusterApi call, and both refuse bad arguments with the same clear
 * error: the IPC handler table (called as ipcMain would, with a fake event) and the web host
 * (a real `src/main/web.ts` process, over HTTP).
 */
const BAD_ARGS: Record<ClusterApiCall, { args: unknown[]; says: RegExp }> = {
  getSnapshot: { args: [1], says: /getSnapshot takes 0 argument/ },
  getSettings: { args: ['x'], says: /getSettings takes 0 argument/ },
  updateSettings: { args: [{ leaseSeconds: 'long' }], says: /settings\.leaseSeconds must be a number/ },
  startCluster: { args: [true], says: /startCluster takes 0 argument/ },
  stopCluster: { args: [null], says: /stopCluster takes 0 argument/ },
  wipeData: { args: [{}], says: /wipeData takes 0 argument/ },
  brokerAction: { args: ['broker-1', 'detonate'], says: /action must be one of/ },
  addBroker: { args: ['broker-9'], says: /addBroker takes 0 argument/ },
  removeBroker: { args: [42], says: /brokerId must be a string/ },
  processOutput: { args: ['/etc/passwd'], says: /name must be 'redis' or a broker id/ },
  simulateFailover: { args: [{ mode: 'explode' }], says: /options\.mode must be one of 'kill', 'pause'/ },
  getFailover: { args: [0], says: /getFailover takes 0 argument/ },
  produce: { args: [{ topic: 'no spaces allowed', payload: 1 }], says: /request\.topic must be 1-249 characters/ },
  produceBatch: { args: ['t', 'not-an-array'], says: /records must be an array/ },
  consume: { args: [{ topic: 't', partition: 0, offset: -1 }], says: /request\.offset must be an integer/ },
  listTopics: { args: [[]], says: /listTopics takes 0 argument/ },
  createTopic: { args: ['t', 1.5], says: /partitions must be an integer/ },
  cancelCalls: { args: ['no spaces'], says: /cancelId must be 1-64 letters/ },
  setTopicConfig: { args: ['t', { 'cleanup.policy': 'compact' }], says: /unknown config key 'cleanup.policy'/ },
  produceOnBroker: { args: ['broker-1', [{ topic: 't', payload: 1 }], 5], says: /timeoutMs must be an integer from 100 to 60000/ },
  startGroupMembers: { args: [{ group: 'g', topic: 't', count: 50 }], says: /request\.count must be an integer from 1 to 8/ },
  groupMemberAction: { args: ['member-1', 'explode'], says: /action must be one of 'stop', 'freeze', 'resume'/ },
  stopGroupMembers: { args: ['no spaces'], says: /group must be 1-249 characters/ },
  describeGroup: { args: [], says: /describeGroup takes 1 argument/ },
  recentEvents: { args: ['all'], says: /recentEvents takes 0 argument/ },
  kafkaAccess: { args: ['all'], says: /kafkaAccess takes 0 argument/ },
};

describe('ClusterApi contract: IPC handler table', () => {
  let sup: Supervisor;
  let cleanup: () => Promise<void>;
  before(async () => {
    const data = await tempDataDir();
    cleanup = data.cleanup;
    sup = await Supervisor.create({ dataDir: data.dir });
  });
  after(async () => {
    await sup.shutdown();
    await cleanup();
  });

  it('has a handler for every call and nothing else', () => {
    const table = createIpcHandlers(sup, trustedUrlCheck());
    assert.deepEqual([...table.keys()].sort(), CLUSTER_API_CALLS.map(ipcChannel).sort());
  });

  for (const method of CLUSTER_API_CALLS) {
    it(`yak:${method} refuses bad arguments with a clear error`, async () => {
      const table = createIpcHandlers(sup, trustedUrlCheck());
      const { args, says } = BAD_ARGS[method];
      const answer = (await table.get(ipcChannel(method))!({ senderFrame: { url: 'app://yak/index.html' } }, ...args)) as IpcAnswer;
      assert.ok('error' in answer, `expected a refusal, got ${JSON.stringify(answer)}`);
      assert.equal(answer.error, 'INVALID_ARGUMENT');
      assert.match(answer.message, says);
    });
  }

  it('serves a good call', async () => {
    const table = createIpcHandlers(sup, trustedUrlCheck());
    const answer = (await table.get(ipcChannel('getSettings'))!({ senderFrame: { url: 'app://yak/' } })) as IpcAnswer;
    assert.ok('result' in answer);
    assert.equal((answer.result as { brokerCount: number }).brokerCount, 3);
  });
});

describe('ClusterApi contract: web host over HTTP', () => {
  let web: WebHost;
  let cleanup: () => Promise<void>;
  before(async () => {
    const data = await tempDataDir();
    cleanup = data.cleanup;
    web = await startWebHost({ YAK_DATA_DIR: data.dir, YAK_AUTOSTART: '0' });
  });
  after(async () => {
    await web.stop();
    await cleanup();
  });

  it('listens on 127.0.0.1 only', () => {
    assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  for (const method of CLUSTER_API_CALLS) {
    it(`POST /api/call/${method} exists and refuses bad arguments with a clear error`, async () => {
      const { args, says } = BAD_ARGS[method];
      const { status, body } = await web.call(method, args);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.error, 'INVALID_ARGUMENT');
      assert.match(body.message, says);
    });
  }

  it('answers good calls with {result}', async () => {
    const settings = await web.call('getSettings', []);
    assert.equal(settings.status, 200);
    assert.equal(settings.body.result.brokerCount, 3);
    const snap = await web.call('getSnapshot', []);
    assert.equal(snap.body.result.running, false);
    assert.deepEqual(snap.body.result.brokers.map((b: { id: string }) => b.id), ['broker-1', 'broker-2', 'broker-3']);
    assert.deepEqual((await web.call('getFailover', [])).body, { result: null });
  });

  it('refuses unknown methods, bodies that are not JSON, and other sites', async () => {
    const unknown = await web.call('dropDatabase', []);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'UNKNOWN_METHOD');
    const res = await fetch(`${web.url}/api/call/getSettings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'INVALID_JSON');
    const cross = await web.call('stopCluster', [], { headers: { 'content-type': 'application/json', origin: 'https://evil.example' } });
    assert.equal(cross.status, 403);
    const notJson = await fetch(`${web.url}/api/call/stopCluster`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"args":[]}' });
    assert.equal(notJson.status, 400, 'a form-style post is not a call');
  });

  it('streams a snapshot at once over SSE, then snapshots and events as they happen', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${web.url}/api/stream`, { signal: ctrl.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil(/event: snapshot\ndata: .*\n\n/);
    assert.match(text, /"running":false/);
    assert.equal((await web.call('updateSettings', [{ partitions: 4 }])).status, 200);
    await readUntil(/event: cluster-event\ndata: .*settings changed/);
    await readUntil(/"partitions":4/);
    ctrl.abort();
  });

  it('serves the UI (or says how to build it) with a CSP', async () => {
    const res = await fetch(`${web.url}/`);
    assert.ok(res.status === 200 || res.status === 503);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  });
});
