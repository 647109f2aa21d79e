import { expect, test, type Page } from '@playwright/test';
import type { ClusterSnapshot } from '../../src/shared/cluster-api';
import { brokerGet, clusterToken } from './broker-direct';
import { callApi, openPane, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * The Dashboard's topic table and broker cards against each broker's own GET /topics and the
 * leader's GET /metadata/cluster (with the cluster's token), never the UI's store: every replica's
 * log end offset is the one that broker reports, the high-water mark is the leader's, a broker that
 * cannot answer (SIGSTOP) has its numbers marked as last seen rather than shown as fresh, and its
 * card leaves the in-sync set when the leader says so.
 */

interface TopicsAnswer {
  topics: { name: string; partitions: { partition: number; high_watermark: number; log_end_offset: number }[] }[];
}
interface ClusterAnswer {
  leader: { id: string } | null;
  brokers: { id: string; in_sync: boolean }[];
}

test.beforeEach(() => {
  test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
});

/** One broker's own partitions of a topic: partition → {hwm, leo}; null when it does not answer. */
async function ownPartitions(url: string, token: string, topic: string): Promise<Map<number, { hwm: number; leo: number }> | null> {
  const answer = await brokerGet<TopicsAnswer>(`${url}/topics`, token, 2_000);
  if (!answer) return null;
  const t = answer.topics.find((x) => x.name === topic);
  return new Map((t?.partitions ?? []).map((p) => [p.partition, { hwm: p.high_watermark, leo: p.log_end_offset }]));
}

interface CellShown { leo: string; stale: string | null; text: string }

/** What the topic table shows for one partition: its HWM cell and every replica's cell, by broker. */
async function partitionShown(page: Page, topic: string, partition: number): Promise<{ hwm: string; replicas: Record<string, CellShown> }> {
  const row = page.getByTestId(`partition-${topic}-${partition}`);
  const hwm = ((await row.getByTestId('partition-hwm').textContent()) ?? '').trim();
  const replicas = await row.getByTestId('replica').evaluateAll((cells) =>
    Object.fromEntries(
      cells.map((c) => [
        c.getAttribute('data-broker') ?? '',
        { leo: c.getAttribute('data-leo') ?? '', stale: c.getAttribute('data-stale'), text: (c.querySelector('[data-testid="replica-leo"]')?.textContent ?? '').trim() },
      ]),
    ),
  );
  return { hwm, replicas };
}

const fmt = (n: number) => n.toLocaleString('en-US');

test('the topic table shows each broker\'s own log end offset and the leader\'s high-water mark; a paused follower\'s numbers are marked stale, and fresh again once it answers', async ({ page, request }) => {
  test.setTimeout(150_000);
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const leader = snapshot.leader!;
  const follower = snapshot.brokers.find((b) => b.id !== leader.id)!;
  const urls = new Map(snapshot.brokers.map((b) => [b.id, b.url]));
  const topic = uniqueTopic('ui-dash-truth');
  await callApi(request, 'createTopic', topic, 2);
  const produce = async (n: number, tag: string) => {
    const res = await fetch(`${leader.url}/produce/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ topic, records: Array.from({ length: n }, (_, i) => ({ partition: i % 2, payload: { tag, i } })) }),
      signal: AbortSignal.timeout(60_000),
    });
    expect(res.status, await res.text()).toBe(200);
  };
  await produce(12, 'first');

  await page.goto('/');
  await openPane(page, 'dashboard');

  /** Polls until the table equals what the answering brokers say (else the poll shows the difference); `silent` brokers must be marked stale. */
  const expectTableTrue = async (silent: Set<string>, what: string) => {
    await expect
      .poll(
        async () => {
          const own = new Map<string, Map<number, { hwm: number; leo: number }> | null>();
          for (const [id, url] of urls) own.set(id, silent.has(id) ? null : await ownPartitions(url, token, topic));
          const lead = own.get(leader.id);
          for (const p of [0, 1]) {
            const shown = await partitionShown(page, topic, p);
            const truth = lead?.get(p);
            if (!truth || shown.hwm !== fmt(truth.hwm)) return `p${p} HWM shown ${shown.hwm}, leader says ${truth?.hwm}`;
            for (const id of urls.keys()) {
              const cell = shown.replicas[id];
              if (!cell) return `p${p} ${id}: no cell`;
              if (silent.has(id)) {
                if (cell.stale !== 'true') return `p${p} ${id} does not answer, but its LEO ${cell.text} is shown as fresh`;
                continue;
              }
              const leo = own.get(id)?.get(p)?.leo;
              if (leo === undefined || cell.leo !== String(leo) || cell.text !== fmt(leo) || cell.stale === 'true') {
                return `p${p} ${id}: shown LEO ${cell.text} (data ${cell.leo}, stale ${cell.stale}), the broker says ${leo}`;
              }
            }
          }
          return '';
        },
        { timeout: 30_000, message: `${what}: the table says what the brokers say` },
      )
      .toBe('');
  };

  await expectTableTrue(new Set(), 'all brokers answer');

  const card = page.getByTestId(`broker-card-${follower.id}`);
  await card.getByTestId('broker-pause').click();
  try {
    await expect(card).toHaveAttribute('data-health', 'paused');
    // Writes go on without it once the leader drops it from the in-sync set.
    await produce(10, 'while-paused');
    await expectTableTrue(new Set([follower.id]), `${follower.id} paused`);
    // The card says "out of ISR" exactly when the leader's own view does.
    const view = await brokerGet<ClusterAnswer>(`${leader.url}/metadata/cluster`, token, 2_000);
    expect(view?.brokers.find((b) => b.id === follower.id)?.in_sync).toBe(false);
    await expect(card).toHaveAttribute('data-insync', 'false');
    await expect(card.getByTestId('insync-badge')).toHaveText('out of ISR');
  } finally {
    await card.getByTestId('broker-resume').click();
  }

  await expect(card).toHaveAttribute('data-health', 'alive');
  await expect
    .poll(async () => (await brokerGet<ClusterAnswer>(`${leader.url}/metadata/cluster`, token, 2_000))?.brokers.find((b) => b.id === follower.id)?.in_sync, { timeout: 60_000 })
    .toBe(true);
  await expect(card).toHaveAttribute('data-insync', 'true');
  await expectTableTrue(new Set(), `${follower.id} resumed`);
  const after = await callApi<ClusterSnapshot>(request, 'getSnapshot');
  expect(after.leader?.id).toBe(leader.id);
});

test('with Redis down no leader can say who is in sync nor list the groups: the cards mark their ISR state as last known, the group table as last seen; once a leader answers again, they show its /metadata/cluster and /groups', async ({ page, request }) => {
  test.setTimeout(180_000);
  const token = clusterToken()!;
  const snapshot = await waitForHealthyCluster(request);
  const urls = snapshot.brokers.map((b) => b.url);
  await page.goto('/');
  await openPane(page, 'dashboard');
  const badges = page.getByTestId('insync-badge');
  await expect(badges).toHaveCount(snapshot.brokers.length);
  for (const b of snapshot.brokers) await expect(page.getByTestId(`broker-card-${b.id}`).getByTestId('insync-badge')).toHaveAttribute('data-stale', 'false');
  // A consumer group the leader lists: its row is current while the leader answers.
  const topic = uniqueTopic('ui-dash-groups');
  const group = uniqueTopic('ui-dash-group');
  await callApi(request, 'createTopic', topic, 1);
  await callApi(request, 'startGroupMembers', { group, topic, count: 1 });
  const groups = page.getByTestId('group-table');
  await expect(groups.getByTestId(`group-${group}`)).toBeVisible({ timeout: 30_000 });
  await expect(groups).toHaveAttribute('data-stale', 'false');
  await callApi(request, 'stopGroupMembers', group);

  await callApi(request, 'brokerAction', 'redis', 'kill');
  try {
    // The brokers' word: nobody leads, so nobody keeps the in-sync set.
    await expect
      .poll(async () => (await Promise.all(urls.map((u) => brokerGet<{ role: string }>(`${u}/health`, token)))).filter((h) => h?.role === 'leader').length, { timeout: 30_000 })
      .toBe(0);
    for (const b of snapshot.brokers) {
      const badge = page.getByTestId(`broker-card-${b.id}`).getByTestId('insync-badge');
      await expect(badge).toHaveAttribute('data-stale', 'true');
      await expect(badge).toContainText('last known');
    }
    // Groups live on the leader's coordinator: with no leader, the list shown is the last one.
    await expect(groups).toHaveAttribute('data-stale', 'true');
    await expect(groups.getByTestId('groups-stale')).toHaveText('last seen');
  } finally {
    await page.getByTestId('redis-restart').click();
  }

  let leaderUrl: string | null = null;
  await expect
    .poll(async () => {
      const answers = await Promise.all(urls.map(async (u) => ({ u, h: await brokerGet<{ role: string }>(`${u}/health`, token) })));
      const claims = answers.filter((a) => a.h?.role === 'leader');
      leaderUrl = claims.length === 1 ? claims[0]!.u : null;
      return leaderUrl;
    }, { timeout: 60_000, message: 'a broker leads again once Redis is back' })
    .not.toBeNull();
  await waitForHealthyCluster(request);
  const view = await brokerGet<ClusterAnswer>(`${leaderUrl}/metadata/cluster`, token, 2_000);
  // The app's own brokers: a broker an earlier test added and removed stays registered in Redis
  // (the leader lists it, not alive) but has no card.
  const supervised = new Set(snapshot.brokers.map((b) => b.id));
  const listed = view!.brokers.filter((b) => supervised.has(b.id));
  expect(listed.map((b) => b.id).sort(), 'the leader lists every broker the app runs').toEqual([...supervised].sort());
  for (const b of listed) {
    const card = page.getByTestId(`broker-card-${b.id}`);
    await expect(card).toHaveAttribute('data-insync', String(b.in_sync));
    await expect(card.getByTestId('insync-badge')).toHaveAttribute('data-stale', 'false');
  }
  // The leader lists the groups again: the table is current, and shows the group as it says.
  await expect(groups).toHaveAttribute('data-stale', 'false');
  await expect
    .poll(async () => {
      const listed = await brokerGet<{ groups: { group: string; members: number }[] }>(`${leaderUrl}/groups`, token, 2_000);
      const truth = listed?.groups.find((g) => g.group === group);
      const row = groups.getByTestId(`group-${group}`);
      const shown = (await row.count()) ? (await row.getByTestId('group-members').textContent())?.trim() : 'no row';
      return shown === (truth ? String(truth.members) : 'no row') ? 'same' : `shown ${shown}, leader ${JSON.stringify(truth ?? null)}`;
    }, { timeout: 20_000 })
    .toBe('same');
});
