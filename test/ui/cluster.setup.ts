import { test } from '@playwright/test';
import { waitForHealthyCluster } from './helpers';

// Runs before the UI specs (a project dependency): the web host answering is not enough, the
// supervisor must have Redis and three brokers up with an elected leader.
test('the web host runs a cluster of 3 brokers with a leader', async ({ request }) => {
  test.setTimeout(180_000);
  await waitForHealthyCluster(request, 170_000);
});
