import { expect, test, type Page } from '@playwright/test';
import type { ClusterEvent } from '../../src/shared/cluster-api';
import { brokerGet, clusterToken } from './broker-direct';
import { callApi, openPane, waitForHealthyCluster } from './helpers';

/**
 * The activity log against the brokers and the host's own event list: a page that opens while
 * events are happening shows every one of them (none lost to the live stream racing the history),
 * once each, newest first; and the in-sync set changes it shows for a paused follower are the ones
 * the leader itself counted (GET /metrics isr_changes_total) and reports (GET /metadata/cluster).
 */

interface ClusterAnswer {
  epoch: number;
  brokers: { id: string; in_sync: boolean }[];
}

test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

interface Shown { seq: number; kind: string; broker: string; epoch: string; at: number }

async function shownEvents(page: Page): Promise<Shown[]> {
  return page.getByTestId('activity-item').evaluateAll((items) =>
    items.map((li) => ({
      seq: Number(li.getAttribute('data-seq')),
      kind: li.getAttribute('data-kind') ?? '',
      broker: li.getAttribute('data-broker') ?? '',
      epoch: li.getAttribute('data-epoch') ?? '',
      at: Number(li.getAttribute('data-at')),
    })),
  );
}

async function isrChanges(url: string, token: string): Promise<{ shrink: number; expand: number }> {
  const m = await brokerGet<Record<string, unknown>>(`${url}/metrics`, token, 2_000);
  const n = (change: string) => (typeof m?.[`isr_changes_total{change="${change}"}`] === 'number' ? (m[`isr_changes_total{change="${change}"}`] as number) : 0);
  return { shrink: n('shrink'), expand: n('expand') };
}

test('a page opened while events happen shows every event once, newest first; ISR changes shown are the ones the leader made', async ({ page, request }) => {
  test.setTimeout(150_000);
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const leader = snapshot.leader!;
  const follower = snapshot.brokers.find((b) => b.id !== leader.id)!;

  // The page's request for the history is held until an event has reached it through the live
  // stream: the order a loaded machine can produce on its own, made certain here.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/call/recentEvents', async (route) => {
    await held;
    await route.continue();
  });
  await page.goto('/');
  await openPane(page, 'dashboard');
  const countedBefore = await isrChanges(leader.url, token);
  const startedAt = Date.now();

  // Paused past the replica lag: the leader drops it from the in-sync set, then takes it back.
  await callApi(request, 'brokerAction', follower.id, 'pause');
  try {
    await expect(page.locator(`[data-testid="activity-item"][data-kind="process-signal"][data-broker="${follower.id}"]`)).not.toHaveCount(0);
    release();
    await expect
      .poll(async () => (await brokerGet<ClusterAnswer>(`${leader.url}/metadata/cluster`, token, 2_000))?.brokers.find((b) => b.id === follower.id)?.in_sync, { timeout: 60_000 })
      .toBe(false);
  } finally {
    release();
    await callApi(request, 'brokerAction', follower.id, 'resume');
  }
  await expect
    .poll(async () => (await brokerGet<ClusterAnswer>(`${leader.url}/metadata/cluster`, token, 2_000))?.brokers.find((b) => b.id === follower.id)?.in_sync, { timeout: 60_000 })
    .toBe(true);
  // Every in-sync set change the leader made since the pause, in its order: its own log lines
  // ("in-sync set shrank without broker-2: [...]") and its counters (GET /metrics) agree on them.
  await waitForHealthyCluster(request);
  const view = await brokerGet<ClusterAnswer>(`${leader.url}/metadata/cluster`, token, 2_000);
  const countedAfter = await isrChanges(leader.url, token);
  const made = (await callApi<string[]>(request, 'processOutput', leader.id))
    .map((line) => /^(\S+Z) .*in-sync set (shrank without|expanded with) (\S+):/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && Date.parse(m[1]!) >= startedAt)
    .map((m) => `${m[2] === 'shrank without' ? 'isr-shrink' : 'isr-expand'} ${m[3]} epoch ${view!.epoch}`);
  expect(made.filter((m) => m.startsWith('isr-shrink')).length).toBe(countedAfter.shrink - countedBefore.shrink);
  expect(made.filter((m) => m.startsWith('isr-expand')).length).toBe(countedAfter.expand - countedBefore.expand);
  expect(made).toContain(`isr-shrink ${follower.id} epoch ${view!.epoch}`);

  // The page shows those changes, in that order, each once (the host polls the brokers, so it may
  // learn of the last one a moment after the leader made it), and none the leader did not make.
  const isrShown = async () =>
    (await shownEvents(page))
      .filter((e) => e.at >= startedAt && (e.kind === 'isr-shrink' || e.kind === 'isr-expand'))
      .reverse()
      .map((e) => `${e.kind} ${e.broker} epoch ${e.epoch}`);
  await expect.poll(isrShown, { timeout: 20_000 }).toEqual(made);
  await page.waitForTimeout(2_000); // a late, invented change would show by now
  expect(await isrShown()).toEqual(made);

  // Every event the host recorded is on the page (the log shows the last 200), once, newest first.
  await expect
    .poll(
      async () => {
        const host = (await callApi<ClusterEvent[]>(request, 'recentEvents')).slice(-200).map((e) => e.seq).reverse().join(',');
        const onPage = (await shownEvents(page)).map((e) => e.seq).join(',');
        return onPage === host ? 'the same' : `page [${onPage}], host [${host}]`;
      },
      { timeout: 20_000, message: 'the page lists exactly the host\'s events (by seq, newest first)' },
    )
    .toBe('the same');
  const shown = await shownEvents(page);
  expect(new Set(shown.map((e) => e.seq)).size).toBe(shown.length);
  for (let i = 1; i < shown.length; i++) expect(shown[i]!.at).toBeLessThanOrEqual(shown[i - 1]!.at);
  await waitForHealthyCluster(request);
});
