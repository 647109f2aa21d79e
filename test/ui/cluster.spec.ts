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
