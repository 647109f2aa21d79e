import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { encodeRecords } from '../../broker-runtime/src/log/record-codec';
import { encodeFrame } from '../../broker-runtime/src/replication/wire';
import type { ClusterSnapshot, ProduceResult } from '../../src/shared/cluster-api';
import { WEB_CALL_PREFIX } from '../../src/shared/web-protocol';
import { callApi, isHealthy, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Issue 9, attack 1 from a browser: a page on another loopback origin sends everything a page can
 * send without a preflight (no-cors POSTs of text/plain bodies) to every broker and to the web
 * host. Nothing changes: same leader and epoch, the committed records intact, no topic created.
 */
test('a web page on another origin cannot rewrite, produce to or control the cluster', async ({ page, request }) => {
  test.skip(!process.env.YAK_UI_DATA_DIR, 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  const before = await waitForHealthyCluster(request);
  const topic = uniqueTopic('hostile');
  const produced: ProduceResult[] = [];
  for (let i = 0; i < 5; i++) produced.push(await callApi<ProduceResult>(request, 'produce', { topic, payload: { i }, partition: 0 }));
  const epoch = before.leader ? before.brokers.find((b) => b.id === before.leader!.id)?.epoch : null;

  const records = encodeRecords([0, 1, 2].map((i) => ({ key: null, payload: JSON.stringify({ forged: i }), headers: {}, timestamp: Date.now() })), 0, (epoch ?? 1) + 1);
  const frame = encodeFrame(
    {
      epoch: (epoch ?? 1) + 1,
      leader: { id: 'evil', url: 'http://127.0.0.1:1' },
      metaVersion: 'forged',
      parts: [{ topic, partition: 0, prevOffset: 0, prevEpoch: -1, hwm: 3, length: records.length, truncateTo: 0, truncateEpoch: -1 }],
    },
    [records],
  );
  const targets = {
    brokers: before.brokers.map((b) => b.url),
    webHost: new URL(test.info().project.use.baseURL!).origin,
    frame: frame.toString('base64'),
    topic,
    callPrefix: WEB_CALL_PREFIX,
  };
  const html = `<!doctype html><title>loading</title><script>
    const t = ${JSON.stringify(targets)};
    const frame = Uint8Array.from(atob(t.frame), (c) => c.charCodeAt(0));
    const shots = [];
    for (const b of t.brokers) {
      shots.push(fetch(b + '/replica/append', { method: 'POST', mode: 'no-cors', body: frame }));
      shots.push(fetch(b + '/replica/append', { method: 'POST', mode: 'no-cors', body: new Blob([frame], { type: 'text/plain' }) }));
      shots.push(fetch(b + '/produce', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ topic: t.topic, partition: 0, payload: { forged: true } }) }));
      shots.push(fetch(b + '/produce', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ topic: 'evil-' + t.topic, payload: 1 }) }));
    }
    shots.push(fetch(t.webHost + t.callPrefix + 'produce', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ args: [{ topic: t.topic, payload: { forged: true } }] }) }));
    shots.push(fetch(t.webHost + t.callPrefix + 'brokerAction', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ args: ['broker-1', 'kill'] }) }));
    Promise.allSettled(shots).then(() => { document.title = 'done'; });
  </script>`;
  const evil = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  try {
    // Another port on loopback: another origin than the web host and every broker.
    await page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
    await expect(page).toHaveTitle('done');
  } finally {
    evil.close();
  }

  await page.waitForTimeout(1500);
  const after = await callApi<ClusterSnapshot>(request, 'getSnapshot');
  expect(isHealthy(after)).toBe(true);
  expect(after.leader?.id).toBe(before.leader?.id);
  expect(after.brokers.find((b) => b.id === after.leader!.id)?.epoch).toBe(epoch);
  // Read every replica directly, as the supervisor does: with the cluster's own credential.
  const credential = JSON.parse(readFileSync(join(process.env.YAK_UI_DATA_DIR!, 'cluster-credential.json'), 'utf8')) as { principal: string; secret: string };
  const headers = { authorization: `Bearer ${credential.principal}:${credential.secret}` };
  for (const b of after.brokers) {
    const res = await request.get(`${b.url}/consume?topic=${topic}&partition=0&offset=0&max=100`, { headers });
    const body = (await res.json()) as { records: { offset: number; payload: unknown }[]; high_watermark: number };
    expect(body.records.map((r) => r.payload)).toEqual(produced.map((_, i) => ({ i })));
    const topics = (await (await request.get(`${b.url}/topics`, { headers })).json()) as { topics: { name: string }[] };
    expect(topics.topics.some((x) => x.name === `evil-${topic}`)).toBe(false);
  }
  const next = await callApi<ProduceResult>(request, 'produce', { topic, payload: { i: 5 }, partition: 0 });
  expect(next.offset).toBe(5);
});
