import { expect, test } from '@playwright/test';
import type { ClusterSettings, ClusterSnapshot } from '../../src/shared/cluster-api';
import { brokerGet, clusterToken, type Health } from './broker-direct';
import { callApi, openPane, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Saved settings apply when the cluster or a broker next starts; until then the brokers run with
 * the flags they were started with. The Dashboard drew the leader's lease against the saved lease
 * length (1.5 s left of a 2 s lease drawn as 19 % of 8 s, in the danger colour) and called every
 * topic's min.insync.replicas a "topic setting" once the saved default differed from the brokers'
 * own. Both are checked against the brokers themselves: the lease length the leader says it runs
 * with (its own start-up line, and its /health lease_ms_left never above it), and the topic's
 * overrides as GET /topics/{name}/config on the leader lists them.
 */

test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

test('with changed settings not yet applied, the lease meter measures the lease the leader runs with, and no topic is called overridden that has no override', async ({ page, request }) => {
  test.setTimeout(150_000);
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const leader = snapshot.leader!;
  const saved = await callApi<ClusterSettings>(request, 'getSettings');
  const topic = uniqueTopic('ui-runs-with');
  await callApi(request, 'createTopic', topic, 1);

  // The leader's own word on its lease: "lease N ms" in its start-up line.
  const output = await callApi<string[]>(request, 'processOutput', leader.id);
  const line = output.find((l) => /\blease \d+ ms\b/.test(l));
  expect(line, `${leader.id}'s start-up line names its lease`).toBeDefined();
  const leaseMs = Number(/\blease (\d+) ms\b/.exec(line!)![1]);
  const health = await brokerGet<Health>(`${leader.url}/health`, token, 2_000);
  expect(health?.role).toBe('leader');
  expect(health!.lease_ms_left!).toBeLessThanOrEqual(leaseMs);

  await page.goto('/');
  await openPane(page, 'dashboard');
  const meter = page.getByTestId(`broker-card-${leader.id}`).getByTestId('lease').getByRole('meter');
  await expect(meter).toHaveAttribute('aria-valuemax', String(leaseMs / 1000));
  const row = page.getByTestId(`min-insync-${topic}`);
  const effective = await brokerGet<{ config: Record<string, number> }>(`${leader.url}/topics/${topic}/config`, token, 2_000);
  await expect(row).toHaveAttribute('data-value', String(effective?.config['min.insync.replicas']));
  await expect(row).not.toContainText('topic setting');

  try {
    // Saved, not applied: no broker restarts.
    await callApi(request, 'updateSettings', { leaseSeconds: saved.leaseSeconds * 4, minInsync: Math.min(saved.minInsync + 1, snapshot.brokers.length) });
    await expect.poll(async () => (await callApi<ClusterSnapshot>(request, 'getSnapshot')).settings.leaseSeconds).toBe(saved.leaseSeconds * 4);
    await page.reload();
    await openPane(page, 'dashboard');
    await expect(page.getByTestId(`broker-card-${leader.id}`)).toHaveAttribute('data-role', 'leader');
    // The leader still runs with the lease it was started with: it says so, and so must the meter.
    const still = await brokerGet<Health>(`${leader.url}/health`, token, 2_000);
    expect(still?.role).toBe('leader');
    expect(still!.lease_ms_left!).toBeLessThanOrEqual(leaseMs);
    await expect(meter).toHaveAttribute('aria-valuemax', String(leaseMs / 1000));
    // The topic has no override of its own on the leader: it is not a "topic setting".
    const config = await brokerGet<{ overrides: Record<string, number> }>(`${leader.url}/topics/${topic}/config`, token, 2_000);
    expect(config?.overrides['min.insync.replicas']).toBeUndefined();
    await expect(row).not.toContainText('topic setting');
  } finally {
    await callApi(request, 'updateSettings', { leaseSeconds: saved.leaseSeconds, minInsync: saved.minInsync });
  }
  expect((await callApi<ClusterSnapshot>(request, 'getSnapshot')).settings.leaseSeconds).toBe(saved.leaseSeconds);
});
