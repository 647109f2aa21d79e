import { expect, test } from '@playwright/test';
import { clusterToken } from './broker-direct';
import { callApi, openPane, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Issue 14: the Dashboard lists consumer groups with their lag, as the leader's coordinator
 * reports them (GET /groups), checked against what the brokers were told.
 */
test.describe('consumer groups on the dashboard', () => {
  test.beforeEach(() => {
    test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  });

  test('a group with committed offsets shows its state, members and lag (high-water mark − committed)', async ({ page, request }) => {
    const token = clusterToken()!;
    const snapshot = await waitForHealthyCluster(request);
    const topic = uniqueTopic('groups');
    const group = `ui-${topic}`;
    await callApi(request, 'createTopic', topic, 1);
    await callApi(request, 'produceBatch', topic, Array.from({ length: 7 }, (_, i) => ({ payload: { i }, partition: 0 })));
    // A tool's commit from outside the group (it has no members): offset 2 of 7 committed records.
    const leader = snapshot.leader!.url;
    const res = await fetch(`${leader}/groups/${group}/commit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ offsets: [{ topic, partition: 0, offset: 2 }] }),
    });
    expect(res.status, await res.text()).toBe(200);
    await page.goto('/');
    await openPane(page, 'dashboard');
    const row = page.getByTestId(`group-${group}`);
    await expect(row).toBeVisible({ timeout: 15_000 });
    await expect(row.getByTestId('group-state')).toHaveText('Empty');
    await expect(row.getByTestId('group-members')).toHaveText('0');
    await expect(row.getByTestId('group-lag')).toHaveText('5');
    await expect(page.getByTestId('group-lag-chart')).toBeVisible();

    // The chart's newest point for the group is what the brokers' own GET /groups says now; after
    // a commit moves the lag, the chart follows (the supervisor's history gains a point).
    const brokerLag = async () => {
      const r = await fetch(`${leader}/groups`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await r.json()) as { groups: { group: string; lag: number }[] };
      return body.groups.find((g) => g.group === group)?.lag;
    };
    const latest = page.getByTestId(`group-lag-latest-${group}`);
    await expect(latest).toHaveAttribute('data-lag', String(await brokerLag()), { timeout: 15_000 });
    const moved = await fetch(`${leader}/groups/${group}/commit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ offsets: [{ topic, partition: 0, offset: 6 }] }),
    });
    expect(moved.status, await moved.text()).toBe(200);
    expect(await brokerLag()).toBe(1);
    await expect(latest).toHaveAttribute('data-lag', '1', { timeout: 15_000 });
  });
});
