import { expect, test, type Locator } from '@playwright/test';
import type { ClusterSnapshot } from '../../src/shared/cluster-api';
import { brokerGet, clusterToken, type Health } from './broker-direct';
import { callApi, openPane, savePaneScreenshot, uniqueTopic, waitForHealthyCluster } from './helpers';

/**
 * Issue 14 in the app: consumer-group members run by the app (Consumer pane) and the "consumer
 * groups and lag" lesson. What the UI shows is checked against the leader's own GET /groups/{g},
 * GET /topics and the generation records its coordinator wrote to __consumer_offsets — never the
 * UI's store nor the supervisor's snapshot.
 */

interface LeaderGroup {
  state: string;
  generation: number;
  members: { member_id: string; client_id: string; partitions: { topic: string; partition: number }[] }[];
  offsets: { topic: string; partition: number; committed_offset: number | null; high_watermark: number; lag: number | null; member_id: string | null }[];
  lag: number;
}

/** The broker whose own /health says it leads (highest epoch). */
async function leaderUrl(snapshot: ClusterSnapshot, token: string): Promise<string> {
  let best: { url: string; epoch: number } | null = null;
  await expect
    .poll(async () => {
      best = null;
      for (const b of snapshot.brokers) {
        const h = await brokerGet<Health>(`${b.url}/health`, token);
        if (h?.role === 'leader' && (!best || h.epoch > best.epoch)) best = { url: b.url, epoch: h.epoch };
      }
      return best !== null;
    }, { timeout: 30_000, message: 'a broker that says it leads' })
    .toBe(true);
  return best!.url;
}

async function leaderGroup(url: string, token: string, group: string): Promise<LeaderGroup | null> {
  return brokerGet<LeaderGroup>(`${url}/groups/${encodeURIComponent(group)}`, token, 3_000);
}

async function leaderHighWatermarks(url: string, token: string, topic: string): Promise<Map<number, number>> {
  const answer = await brokerGet<{ topics: { name: string; partitions: { partition: number; high_watermark: number }[] }[] }>(`${url}/topics`, token, 3_000);
  return new Map((answer?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [p.partition, p.high_watermark]));
}

/** Each member's partitions, by client id (the app sends its member names as client ids). */
function holders(g: LeaderGroup): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of g.members) out[m.client_id] = m.partitions.map((p) => p.partition).sort((a, b) => a - b).map((p) => `p${p}`).join(', ') || '—';
  return out;
}

/** What the panel shows: generation, each member row's partitions, each partition row's numbers. */
async function panelView(panel: Locator) {
  const generation = Number(await panel.getByTestId('group-run-generation').textContent());
  const members = await panel.getByTestId('group-member').evaluateAll((rows) =>
    Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset['member'] ?? '', r.querySelector('[data-testid="member-partitions"]')?.textContent?.trim() ?? ''])),
  );
  const partitions = await panel.getByTestId('group-partition').evaluateAll((rows) =>
    rows.map((r) => {
      const cell = (id: string) => r.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? '';
      return { partition: Number((r as HTMLElement).dataset['partition']), committed: cell('partition-committed'), hwm: cell('partition-hwm'), lag: cell('partition-lag'), holder: cell('partition-holder') };
    }),
  );
  return { generation, members, partitions };
}

/**
 * Waits until the leader's group passes `test` and the panel then shows exactly what the leader
 * says (generation, who holds which partition, committed offsets, high-water marks, lag), with the
 * high-water marks also equal to the leader's GET /topics. Returns the leader's answer.
 */
async function expectPanelMatchesLeader(panel: Locator, url: string, token: string, group: string, topic: string, test: (g: LeaderGroup) => boolean, what: string): Promise<LeaderGroup> {
  let truth: LeaderGroup | null = null;
  let mismatch = '';
  await expect
    .poll(
      async () => {
        truth = await leaderGroup(url, token, group);
        if (!truth || !test(truth)) return (mismatch = `leader: ${JSON.stringify(truth && { state: truth.state, generation: truth.generation, members: holders(truth), lag: truth.lag })}`) && false;
        const hwms = await leaderHighWatermarks(url, token, topic);
        const shown = await panelView(panel);
        const byId = new Map(truth.members.map((m) => [m.member_id, m.client_id]));
        const expected = {
          generation: truth.generation,
          members: holders(truth),
          partitions: truth.offsets
            .filter((o) => o.topic === topic)
            .map((o) => ({ partition: o.partition, committed: String(o.committed_offset ?? '—'), hwm: String(o.high_watermark), lag: String(o.lag ?? '—'), holder: o.member_id ? (byId.get(o.member_id) ?? o.member_id) : '—' })),
        };
        const topicsAgree = expected.partitions.every((p) => String(hwms.get(p.partition)) === p.hwm);
        mismatch = `shown ${JSON.stringify(shown)} vs leader ${JSON.stringify(expected)} (GET /topics agrees: ${topicsAgree})`;
        return topicsAgree && JSON.stringify(shown) === JSON.stringify(expected);
      },
      { timeout: 60_000, intervals: [500], message: `${what}: the panel shows the leader's GET /groups/{g}` },
    )
    .toBe(true)
    .catch((e: Error) => {
      throw new Error(`${e.message}\n${mismatch}`);
    });
  return truth!;
}

async function generationEntry(panel: Locator, generation: number): Promise<void> {
  await expect(panel.locator(`[data-testid="group-generation-entry"][data-generation="${generation}"]`)).toBeVisible();
}

test.describe('consumer groups run by the app', () => {
  test.beforeEach(() => {
    test.skip(!clusterToken(), 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  });

  test('the Consumer pane starts members, shows who holds what, and each rebalance as the leader reports it (added, frozen, stopped)', async ({ page, request }) => {
    test.setTimeout(240_000);
    const token = clusterToken()!;
    const snapshot = await waitForHealthyCluster(request);
    const url = await leaderUrl(snapshot, token);
    const topic = uniqueTopic('grp');
    const group = `ui-${topic}`;
    await callApi(request, 'createTopic', topic, 4);
    await callApi(request, 'produceBatch', topic, Array.from({ length: 40 }, (_, i) => ({ payload: { i }, partition: i % 4 })));

    await page.goto('/');
    await openPane(page, 'consumer');
    const panel = page.getByTestId('group-panel');
    try {
      await panel.getByTestId('group-name').fill(group);
      await panel.getByTestId('group-topic').fill(topic);
      await panel.getByTestId('group-count').fill('2');
      await panel.getByTestId('group-session').fill('3000');
      await panel.getByTestId('group-start').click();

      // Two members: all 40 records processed and committed, lag 0 — as the leader says. (The group's
      // lag sums only partitions with a committed offset, so 0 alone would also fit "nothing committed yet".)
      const g1 = await expectPanelMatchesLeader(panel, url, token, group, topic, (g) => g.state === 'Stable' && g.members.length === 2 && g.offsets.length === 4 && g.offsets.every((o) => o.committed_offset === o.high_watermark && o.lag === 0), 'two members, every partition committed up to its high-water mark');
      await generationEntry(panel, g1.generation);
      const processed = await panel.getByTestId('member-processed').allTextContents();
      expect(processed.map(Number).reduce((a, b) => a + b, 0), 'the members processed the 40 records (at least once)').toBeGreaterThanOrEqual(40);

      // A third member: a new generation, three holders.
      await panel.getByTestId('group-count').fill('1');
      await panel.getByTestId('group-start').click();
      const g2 = await expectPanelMatchesLeader(panel, url, token, group, topic, (g) => g.state === 'Stable' && g.members.length === 3 && g.generation > g1.generation, 'a third member joined');
      await generationEntry(panel, g2.generation);

      // Freeze a member that holds partitions: its session expires and the leader gives them away.
      const victim = g2.members.find((m) => m.partitions.length > 0)!.client_id;
      await panel.locator(`[data-testid="group-member"][data-member="${victim}"]`).getByTestId('member-freeze').click();
      const g3 = await expectPanelMatchesLeader(panel, url, token, group, topic, (g) => g.state === 'Stable' && g.generation > g2.generation && !g.members.some((m) => m.client_id === victim), `${victim} frozen until its session expired`);
      expect(g3.members).toHaveLength(2);
      await generationEntry(panel, g3.generation);
      await expect(panel.locator(`[data-testid="group-outside-member"][data-member="${victim}"]`).getByTestId('member-state')).toHaveText('frozen');

      // Stop one of the two left: it leaves, the last one holds every partition.
      const stopped = g3.members[0]!.client_id;
      await panel.locator(`[data-testid="group-member"][data-member="${stopped}"]`).getByTestId('member-stop').click();
      const g4 = await expectPanelMatchesLeader(panel, url, token, group, topic, (g) => g.state === 'Stable' && g.generation > g3.generation && g.members.length === 1, `${stopped} stopped`);
      expect(g4.members[0]!.partitions).toHaveLength(4);
      await generationEntry(panel, g4.generation);
      await savePaneScreenshot(page, 'consumer-group', test.info());
    } finally {
      await callApi(request, 'stopGroupMembers', group).catch(() => undefined);
    }
    // Every member stopped: the leader lists none.
    await expect.poll(async () => (await leaderGroup(url, token, group))?.members.length, { timeout: 30_000 }).toBe(0);
  });

  test('the "consumer groups and lag" lesson: its generations and assignments are those the coordinator wrote, and the lag it ends on is the leader\'s', async ({ page, request }) => {
    test.setTimeout(240_000);
    const token = clusterToken()!;
    const snapshot = await waitForHealthyCluster(request);
    const url = await leaderUrl(snapshot, token);
    const before = new Set((await brokerGet<{ groups: { group: string }[] }>(`${url}/groups`, token, 3_000))?.groups.map((g) => g.group) ?? []);

    await page.goto('/');
    await page.getByTestId('nav-lessons').click();
    const card = page.getByTestId('lesson-groups');
    await page.getByTestId('lesson-groups-run').click();
    await expect(card).toHaveAttribute('data-state', /done|failed/, { timeout: 200_000 });
    const error = card.getByTestId('lesson-groups-error');
    if (await error.isVisible()) throw new Error(`the lesson failed: ${await error.textContent()}`);
    await expect(card.getByTestId('lesson-groups-outcome')).not.toBeEmpty();
    await card.scrollIntoViewIfNeeded();
    await savePaneScreenshot(page, 'lesson-groups', test.info());

    const entries = await card.getByTestId('lesson-entry').evaluateAll((rows) =>
      rows.map((r) => ({ kind: (r as HTMLElement).dataset['kind'] ?? '', generation: (r as HTMLElement).dataset['generation'], text: r.querySelector('.text')?.textContent ?? '' })),
    );
    const kinds = entries.map((e) => e.kind);
    for (const k of ['members-started', 'generation', 'produced', 'lag', 'lag-zero', 'member-added', 'frozen', 'session-expired']) expect(kinds, `a '${k}' entry`).toContain(k);
    const gens = entries.filter((e) => e.kind === 'generation');
    expect(gens).toHaveLength(3);
    const numbers = gens.map((e) => Number(e.generation));
    expect(numbers[1]!).toBeGreaterThan(numbers[0]!);
    expect(numbers[2]!).toBeGreaterThan(numbers[1]!);

    // The lesson's group, from the leader's own list.
    const lessonGroups = ((await brokerGet<{ groups: { group: string }[] }>(`${url}/groups`, token, 3_000))?.groups ?? []).map((g) => g.group).filter((g) => g.startsWith('lesson-groups-') && !before.has(g));
    expect(lessonGroups).toHaveLength(1);
    const group = lessonGroups[0]!;

    // Each generation in the timeline is a generation record the coordinator wrote to __consumer_offsets, with the same assignment.
    const written = await generationRecords(url, token, group);
    for (const e of gens) {
      const record = written.get(Number(e.generation));
      expect(record, `generation ${e.generation} was written by the coordinator`).toBeDefined();
      for (const [member, parts] of Object.entries(record!)) {
        const shown = parts.length ? parts.map((p) => `p${p}`).join(', ') : 'nothing';
        expect(e.text, `generation ${e.generation}: ${member}'s partitions`).toContain(`${member} → ${shown}`);
      }
      // Each of the 6 partitions held by exactly one member.
      expect(Object.values(record!).flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    }
    expect(Object.keys(written.get(numbers[0]!)!)).toHaveLength(2);
    expect(Object.keys(written.get(numbers[1]!)!)).toHaveLength(3);
    expect(Object.keys(written.get(numbers[2]!)!)).toHaveLength(2);

    // The lesson ended with lag 0: every partition committed up to the leader's high-water mark in GET /topics.
    const truth = (await leaderGroup(url, token, group))!;
    const hwms = await leaderHighWatermarks(url, token, 'lesson-groups');
    expect(truth.offsets.length).toBe(6);
    for (const o of truth.offsets) expect(o.committed_offset, `p${o.partition} committed up to the high-water mark`).toBe(hwms.get(o.partition));
    expect(truth.lag).toBe(0);
    expect(truth.members).toHaveLength(0);
  });
});

/** generation → { client id → partitions }, from the group records in the leader's __consumer_offsets. */
async function generationRecords(url: string, token: string, group: string): Promise<Map<number, Record<string, number[]>>> {
  const out = new Map<number, Record<string, number[]>>();
  let offset = 0;
  for (;;) {
    const q = new URLSearchParams({ topic: '__consumer_offsets', partition: '0', offset: String(offset), max: '1000', wait_ms: '0' });
    const page = await brokerGet<{ records: { payload: unknown }[]; next_offset: number }>(`${url}/consume?${q}`, token, 10_000);
    if (!page || page.records.length === 0) break;
    for (const r of page.records) {
      const v = (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as { type: string; group: string; generation: number; members: { client_id: string; assignment: string }[] };
      if (v.type !== 'group' || v.group !== group) continue;
      const holders: Record<string, number[]> = {};
      for (const m of v.members) {
        // A REST member's assignment is JSON [[topic, partition], …] (broker-runtime/src/groups/rest-protocol.ts).
        const parts = m.assignment ? (JSON.parse(Buffer.from(m.assignment, 'base64').toString('utf8')) as [string, number][]) : [];
        holders[m.client_id] = parts.map(([, p]) => p).sort((a, b) => a - b);
      }
      out.set(v.generation, holders);
    }
    offset = page.next_offset;
  }
  return out;
}

