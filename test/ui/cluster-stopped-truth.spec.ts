import { spawnSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import type { ClusterSnapshot, KafkaAccess } from '../../src/shared/cluster-api';
import { brokerGet, clusterToken } from './broker-direct';
import { callApi, openPane, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * The whole cluster stopped (Stop cluster): no broker answers anything, over REST or Kafka. The
 * Dashboard must then offer no bootstrap server (it kept listing every dead listener), call no
 * broker "out of ISR" (the last leader said each was in it; after the stop nothing is known, and
 * the card said "out of ISR · last known"), name no leader, and mark every number of the topic table
 * as last seen. Once the cluster runs again, each shows what the brokers say.
 */

test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

const SASL = (a: KafkaAccess) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${a.username}`, '-X', `sasl.password=${a.password}`];

/** Whether a Kafka listener answers Metadata (kcat -L). */
function answersKafka(address: string, access: KafkaAccess): boolean {
  return spawnSync('kcat', ['-b', address, ...SASL(access), '-L', '-m', '5'], { timeout: 15_000, encoding: 'utf8' }).status === 0;
}

test('with the whole cluster stopped: no bootstrap server offered, no broker called out of ISR, no leader, the topic table marked last seen; all true again once it runs', async ({ page, request }) => {
  test.setTimeout(240_000);
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const access = await callApi<KafkaAccess>(request, 'kafkaAccess');
  const addresses = snapshot.brokers.map((b) => `127.0.0.1:${b.kafkaPort}`);
  const topic = uniqueTopic('ui-stopped');
  await callApi(request, 'createTopic', topic, 1);
  await callApi(request, 'produce', { topic, payload: { n: 1 }, partition: 0 });

  await page.goto('/');
  await openPane(page, 'dashboard');
  const card = page.getByTestId('kafka-connect');
  await expect(card.getByTestId('kafka-bootstrap')).toHaveText(addresses.join(','));
  // Before: the leader's own view has every broker in sync, and so do the cards.
  const view = await brokerGet<{ brokers: { id: string; in_sync: boolean }[] }>(`${snapshot.leader!.url}/metadata/cluster`, token, 2_000);
  for (const b of snapshot.brokers) {
    expect(view?.brokers.find((x) => x.id === b.id)?.in_sync).toBe(true);
    await expect(page.getByTestId(`broker-card-${b.id}`).getByTestId('insync-badge')).toHaveText('in ISR');
  }
  await expect(page.getByTestId(`partition-${topic}-0`).getByTestId('partition-hwm')).toHaveText('1');

  await page.getByTestId('stop-cluster').click();
  try {
    await expect
      .poll(async () => {
        const s = await callApi<ClusterSnapshot>(request, 'getSnapshot');
        return !s.running && s.brokers.every((b) => ['stopped', 'exited', 'crashed'].includes(b.process.state));
      }, { timeout: 60_000 })
      .toBe(true);
    // The brokers' side: nothing answers, over REST or Kafka.
    for (const b of snapshot.brokers) expect(await brokerGet(`${b.url}/health`, token, 1_000), `${b.id} still answers /health`).toBeNull();
    for (const address of addresses) expect(answersKafka(address, access), `${address} still answers Kafka`).toBe(false);
    // The page's side.
    for (const address of addresses) await expect(card).not.toContainText(address);
    await expect(card.getByTestId('kafka-bootstrap')).toHaveCount(0);
    await expect(page.getByTestId('sidebar-leader')).toHaveText('no leader');
    for (const b of snapshot.brokers) {
      const c = page.getByTestId(`broker-card-${b.id}`);
      await expect(c).toHaveAttribute('data-role', 'none');
      await expect(c.getByTestId('insync-badge')).not.toContainText('out of ISR');
      await expect(c.getByTestId('insync-badge')).toHaveAttribute('data-stale', 'true');
    }
    await expect(page.getByTestId(`partition-${topic}-0`).getByTestId('partition-hwm')).toHaveAttribute('data-stale', 'true');
  } finally {
    await page.getByTestId('start-cluster').click();
  }
  const again = await waitForHealthyCluster(request, 150_000);
  await expect(card.getByTestId('kafka-bootstrap')).toHaveText(again.brokers.map((b) => `127.0.0.1:${b.kafkaPort}`).join(','), { timeout: 30_000 });
  const after = await brokerGet<{ brokers: { id: string; in_sync: boolean }[] }>(`${again.leader!.url}/metadata/cluster`, token, 2_000);
  for (const b of again.brokers) {
    const inSync = after?.brokers.find((x) => x.id === b.id)?.in_sync;
    await expect(page.getByTestId(`broker-card-${b.id}`).getByTestId('insync-badge')).toHaveText(inSync ? 'in ISR' : 'out of ISR', { timeout: 30_000 });
  }
  await expect(page.getByTestId(`partition-${topic}-0`).getByTestId('partition-hwm')).toHaveAttribute('data-stale', 'false', { timeout: 30_000 });
});
