import { createServer, type Server } from 'node:net';
import { expect, test, type Locator } from '@playwright/test';
import type { ClusterSnapshot } from '../../src/shared/cluster-api';
import { callApi, savePaneScreenshot, waitForHealthyCluster } from './helpers';

async function followerCard(page: import('@playwright/test').Page, request: import('@playwright/test').APIRequestContext): Promise<Locator> {
  const s = await callApi<ClusterSnapshot>(request, 'getSnapshot');
  const follower = s.brokers.find((b) => b.role === 'follower');
  if (!follower) throw new Error('no follower in the cluster');
  await page.goto('/');
  const card = page.getByTestId(`broker-card-${follower.id}`);
  await expect(card).toHaveAttribute('data-health', 'alive');
  return card;
}

test.beforeEach(async ({ request }) => {
  await waitForHealthyCluster(request);
});

test.afterEach(async ({ request }) => {
  // Leave the cluster whole for the next test, whatever happened here.
  await waitForHealthyCluster(request, 90_000);
});

test('pause and resume a follower from its card changes its state on the Dashboard', async ({ page, request }, info) => {
  const card = await followerCard(page, request);
  await card.getByTestId('broker-pause').click();
  await expect(card).toHaveAttribute('data-health', 'paused');
  await expect(card.getByTestId('health-badge')).toHaveText(/paused/);
  await expect(card.getByTestId('broker-resume')).toBeEnabled();
  await expect(card.getByTestId('broker-pause')).toHaveCount(0);
  await savePaneScreenshot(page, 'dashboard-follower-paused', info);

  await card.getByTestId('broker-resume').click();
  await expect(card).toHaveAttribute('data-health', 'alive');
  await expect(card.getByTestId('broker-pause')).toBeEnabled();
  await expect(card).toHaveAttribute('data-insync', 'true', { timeout: 60_000 });
});

test('kill and restart a follower from its card changes its state on the Dashboard', async ({ page, request }) => {
  const card = await followerCard(page, request);
  await card.getByTestId('broker-kill').click();
  await expect(card).toHaveAttribute('data-health', 'dead');
  await expect(card.getByTestId('health-badge')).toHaveText(/dead/);
  // A killed follower stops fetching and drops out of the in-sync replicas.
  await expect(card).toHaveAttribute('data-insync', 'false', { timeout: 60_000 });
  await expect(page.getByTestId('activity-log')).toContainText(/exited|kill/i);

  await card.getByTestId('broker-restart').click();
  await expect(card).toHaveAttribute('data-health', 'alive', { timeout: 60_000 });
  await expect(card).toHaveAttribute('data-role', 'follower');
  await expect(card).toHaveAttribute('data-insync', 'true', { timeout: 60_000 });
});

test('a follower whose ports another program took while it was stopped starts on new ones: its card, the bootstrap servers and the activity log say so', async ({ page, request }) => {
  const card = await followerCard(page, request);
  const id = (await card.getAttribute('data-testid'))!.replace('broker-card-', '');
  const before = (await callApi<ClusterSnapshot>(request, 'getSnapshot')).brokers.find((b) => b.id === id)!;
  await card.getByTestId('broker-stop').click();
  await expect(card).toHaveAttribute('data-health', 'dead');
  // Another program listens on both of the stopped broker's ports (the web host runs on this machine).
  const holders = await Promise.all([listenOn(before.port), listenOn(before.kafkaPort)]);
  try {
    await card.getByTestId('broker-start').click();
    await expect(card).toHaveAttribute('data-health', 'alive', { timeout: 60_000 });
    let after = before;
    await expect
      .poll(async () => {
        after = (await callApi<ClusterSnapshot>(request, 'getSnapshot')).brokers.find((b) => b.id === id)!;
        return after.port !== before.port && after.kafkaPort !== before.kafkaPort && after.port > 0;
      }, { timeout: 30_000 })
      .toBe(true);
    await expect(card.getByTestId('broker-address')).toContainText(`:${after.port}`);
    await expect(page.getByTestId('kafka-bootstrap')).toContainText(`127.0.0.1:${after.kafkaPort}`);
    await expect(page.getByTestId('kafka-bootstrap')).not.toContainText(`127.0.0.1:${before.kafkaPort}`);
    const log = page.getByTestId('activity-log');
    await expect(log).toContainText(`starts on port ${after.port}: its port ${before.port} was taken by another program`);
    await expect(log).toContainText(`its Kafka port ${before.kafkaPort} was taken by another program`);
    await expect(card).toHaveAttribute('data-insync', 'true', { timeout: 60_000 });
  } finally {
    await Promise.all(holders.map((h) => new Promise<void>((resolve) => h.close(() => resolve()))));
  }
});

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
