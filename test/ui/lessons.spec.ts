import { expect, test, type Locator, type Page } from '@playwright/test';
import { brokerGet, clusterToken, consumeAll, type ConsumedRecord, type Health } from './broker-direct';
import { callApi, waitForHealthyCluster } from './helpers';

/**
 * The Lessons pane (issue 11): each lesson runs on the real cluster, and the timeline it shows is
 * checked against the brokers' own API (/health, /metadata/cluster, /consume) — never against the
 * UI's store or the supervisor's snapshot.
 */

interface Entry {
  kind: string;
  broker: string | null;
  epoch: number | null;
  partition: number | null;
  offset: number | null;
  ref: string | null;
  text: string;
}

async function entries(card: Locator): Promise<Entry[]> {
  return card.getByTestId('lesson-entry').evaluateAll((rows) =>
    rows.map((row) => {
      const d = (row as HTMLElement).dataset;
      const n = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));
      return { kind: d['kind'] ?? '', broker: d['broker'] ?? null, epoch: n(d['epoch']), partition: n(d['partition']), offset: n(d['offset']), ref: d['ref'] ?? null, text: row.textContent ?? '' };
    }),
  );
}

async function openLessons(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByTestId('nav-lessons').click();
  await expect(page.getByTestId('pane-lessons')).toBeVisible();
}

async function runLesson(page: Page, id: string, timeout = 120_000): Promise<Locator> {
  const card = page.getByTestId(`lesson-${id}`);
  await page.getByTestId(`lesson-${id}-run`).click();
  await expect(card).toHaveAttribute('data-state', /done|failed/, { timeout });
  const error = card.getByTestId(`lesson-${id}-error`);
  if (await error.isVisible()) throw new Error(`lesson ${id} failed: ${await error.textContent()}`);
  await expect(card.getByTestId(`lesson-${id}-outcome`)).not.toBeEmpty();
  return card;
}

function one(list: Entry[], kind: string): Entry {
  const found = list.filter((e) => e.kind === kind);
  expect(found, `one '${kind}' entry in ${JSON.stringify(list.map((e) => e.kind))}`).toHaveLength(1);
  return found[0]!;
}

/** Polls a broker's own /health until `test` passes; returns it. */
async function healthOf(url: string, token: string, test: (h: Health) => boolean, what: string): Promise<Health> {
  let last: Health | null = null;
  await expect.poll(async () => {
    last = await brokerGet<Health>(`${url}/health`, token);
    return last !== null && test(last);
  }, { timeout: 30_000, message: what }).toBe(true);
  return last!;
}

test('Ctrl+4 opens the Lessons pane, and the predicted partition follows the key as it is typed', async ({ page }) => {
  await page.goto('/');
  await page.keyboard.press('Control+4');
  await expect(page.getByTestId('pane-lessons')).toBeVisible();
  const key = page.getByTestId('lesson-routing-key');
  const prediction = page.getByTestId('lesson-routing-prediction');
  await key.fill('');
  await expect(prediction).toContainText('type a key');
  // Kafka's partitioner puts customer-7 on partition 1 of 3 (the README's curl example shows the broker doing it).
  await key.fill('customer-7');
  await expect(prediction).toHaveAttribute('data-partition', '1');
  await expect(prediction).toContainText('murmur2 = 0xb37a4cf7');
  await expect(page.getByTestId('lesson-routing-run')).toBeEnabled();
});

test('lesson 1: the partition predicted before sending is where the leader puts the key', async ({ page, request }) => {
  const token = clusterToken();
  test.skip(!token, 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  const snap = await waitForHealthyCluster(request);
  await openLessons(page);
  const key = `user-${Date.now().toString(36)}`;
  await page.getByTestId('lesson-routing-key').fill(key);
  const shown = Number(await page.getByTestId('lesson-routing-prediction').getAttribute('data-partition'));

  const card = await runLesson(page, 'routing', 30_000);
  const list = await entries(card);
  const predicted = one(list, 'predicted');
  const committed = one(list, 'committed');
  expect(predicted.partition).toBe(shown);

  // The broker's own answer: the record with this key is at the partition and offset the timeline shows.
  const leaderUrl = snap.brokers.find((b) => b.id === snap.leader!.id)!.url;
  const page1 = await brokerGet<{ records: ConsumedRecord[] }>(`${leaderUrl}/consume?topic=lesson-routing&partition=${committed.partition}&offset=${committed.offset}&max=1`, token!, 5_000);
  expect(page1?.records[0]?.key).toBe(key);
  expect(committed.partition).toBe(predicted.partition);
});

test('lesson 2: leader failover — the new leader and epoch in the timeline are what the brokers say', async ({ page, request }) => {
  test.setTimeout(180_000);
  const token = clusterToken();
  test.skip(!token, 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  const snap = await waitForHealthyCluster(request);
  await openLessons(page);
  const card = await runLesson(page, 'failover', 150_000);
  const list = await entries(card);
  const before = one(list, 'leader-before');
  const elected = one(list, 'failover-new-leader');
  one(list, 'failover-leader-lost');
  one(list, 'failover-caught-up');
  expect(list.some((e) => e.kind === 'gap')).toBe(true);
  expect(before.broker).toBe(snap.leader!.id);
  expect(elected.broker).not.toBe(before.broker);
  expect(elected.epoch!).toBeGreaterThan(before.epoch!);

  const urls = new Map(snap.brokers.map((b) => [b.id, b.url]));
  // The new leader itself claims the lead with that epoch; the old one is a follower of it or later.
  const next = await healthOf(urls.get(elected.broker!)!, token!, (h) => h.role === 'leader' || h.epoch > elected.epoch!, `${elected.broker} answers /health`);
  if (next.role === 'leader') expect(next.epoch).toBe(elected.epoch);
  await healthOf(urls.get(before.broker!)!, token!, (h) => h.role === 'follower' && h.epoch >= elected.epoch!, `${before.broker} is a follower at epoch ≥ ${elected.epoch}`);
  // And it is back in the in-sync set, as the leader's /metadata/cluster says.
  await expect.poll(async () => {
    const view = await brokerGet<{ brokers: { id: string; in_sync: boolean }[] }>(`${urls.get(elected.broker!)}/metadata/cluster`, token!);
    return view?.brokers.find((b) => b.id === before.broker)?.in_sync ?? false;
  }, { timeout: 30_000 }).toBe(true);
});

test('lesson 3: the frozen leader’s writes are refused after a new epoch, and only acknowledged writes are in the log', async ({ page, request }) => {
  test.setTimeout(180_000);
  const token = clusterToken();
  test.skip(!token, 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  const snap = await waitForHealthyCluster(request);
  await openLessons(page);
  const card = await runLesson(page, 'zombie', 150_000);
  const list = await entries(card);
  const before = one(list, 'leader-before');
  const elected = one(list, 'new-leader');
  expect(before.broker).toBe(snap.leader!.id);
  expect(elected.broker).not.toBe(before.broker);
  expect(elected.epoch!).toBeGreaterThan(before.epoch!);

  const sentFrozen = list.filter((e) => e.kind === 'sent-frozen');
  const refusedFrozen = list.filter((e) => e.kind === 'refused-frozen');
  expect(sentFrozen.length).toBeGreaterThan(0);
  // Every write that waited in the frozen leader's socket was refused by that broker itself.
  expect(refusedFrozen.map((e) => e.ref).sort()).toEqual(sentFrozen.map((e) => e.ref).sort());
  for (const e of refusedFrozen) expect(e.broker).toBe(before.broker);

  const urls = new Map(snap.brokers.map((b) => [b.id, b.url]));
  await healthOf(urls.get(before.broker!)!, token!, (h) => h.role === 'follower' && h.epoch >= elected.epoch!, `${before.broker} is a follower at epoch ≥ ${elected.epoch}`);
  const leaderNow = await healthOf(urls.get(elected.broker!)!, token!, () => true, `${elected.broker} answers`);
  const leaderUrl = leaderNow.role === 'leader' ? urls.get(elected.broker!)! : urls.get(before.broker!)!;

  // The log as the brokers serve it: acknowledged writes at their offsets, refused ones nowhere.
  const log = await consumeAll(leaderUrl, token!, 'lesson-zombie');
  const refOf = (r: ConsumedRecord) => {
    const p = r.payload as { run?: string; n?: number } | null;
    return p?.run !== undefined ? `${p.run}#${p.n}` : null;
  };
  const byRef = new Map(log.map((r) => [refOf(r), r.offset]));
  for (const e of refusedFrozen) expect(byRef.has(e.ref), `refused ${e.ref} is not in the log`).toBe(false);
  const acks = list.filter((e) => e.kind.startsWith('ack-'));
  expect(acks.length).toBeGreaterThanOrEqual(2);
  for (const e of acks) expect(byRef.get(e.ref), `acknowledged ${e.ref} is at offset ${e.offset}`).toBe(e.offset);
});

test('lesson 4: the leader’s log end runs ahead of its high-water mark while a frozen follower is in sync; then it catches up', async ({ page, request }) => {
  test.setTimeout(180_000);
  const token = clusterToken();
  test.skip(!token, 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  const snap = await waitForHealthyCluster(request);
  await openLessons(page);
  const card = await runLesson(page, 'hwm', 150_000);
  const list = await entries(card);
  const paused = one(list, 'paused');
  const leaderId = snap.leader!.id;
  expect(paused.broker).not.toBe(leaderId);
  // The timeline saw written-but-not-committed records (sampled from each broker's own /topics).
  expect(list.some((e) => e.kind === 'offsets-uncommitted')).toBe(true);

  // The brokers' own API: acknowledged writes are in the log at their offsets ...
  const urls = new Map(snap.brokers.map((b) => [b.id, b.url]));
  const log = await consumeAll(urls.get(leaderId)!, token!, 'lesson-hwm');
  const byRef = new Map(log.map((r) => {
    const p = r.payload as { run?: string; n?: number };
    return [`${p.run}#${p.n}`, r.offset];
  }));
  const acks = list.filter((e) => e.kind === 'ack');
  expect(acks.length).toBe(10);
  for (const e of acks) expect(byRef.get(e.ref!)).toBe(e.offset);
  // ... and the follower has all of them again, and is back in the in-sync set.
  type Topics = { topics: { name: string; partitions: { partition: number; log_end_offset: number; high_watermark: number }[] }[] };
  const end = async (id: string) => (await brokerGet<Topics>(`${urls.get(id)}/topics`, token!))?.topics.find((t) => t.name === 'lesson-hwm')?.partitions[0]?.log_end_offset;
  await expect.poll(async () => (await end(paused.broker!)) === (await end(leaderId)), { timeout: 30_000 }).toBe(true);
  await expect.poll(async () => {
    const view = await brokerGet<{ brokers: { id: string; in_sync: boolean }[] }>(`${urls.get(leaderId)}/metadata/cluster`, token!);
    return view?.brokers.find((b) => b.id === paused.broker)?.in_sync ?? false;
  }, { timeout: 30_000 }).toBe(true);
});

test('lesson 5: below min in-sync the leader refuses with NOT_ENOUGH_REPLICAS and writes nothing', async ({ page, request }) => {
  test.setTimeout(240_000);
  const token = clusterToken();
  test.skip(!token, 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  // The lesson sets min.insync.replicas = 2 on its own topic, live: no restart, the cluster's setting untouched.
  const snap = await waitForHealthyCluster(request);
  try {
    await openLessons(page);
    const card = await runLesson(page, 'isr', 200_000);
    const list = await entries(card);
    const writes = list.filter((e) => e.kind === 'ack' || e.kind === 'refused');
    expect(writes.length).toBe(snap.brokers.length + 1);
    const urls = new Map(snap.brokers.map((b) => [b.id, b.url]));
    const log = await consumeAll(urls.get(snap.leader!.id)!, token!, 'lesson-isr');
    const byRef = new Map(log.map((r) => {
      const p = r.payload as { run?: string; n?: number };
      return [`${p.run}#${p.n}`, r.offset];
    }));
    let refusals = 0;
    for (const w of writes) {
      const [, isr, min] = /With (\d+) in sync \(min (\d+)\)/.exec(w.text)!.map(Number);
      if (isr! < min!) {
        expect(w.kind, w.text).toBe('refused');
        expect(w.text).toContain('503 NOT_ENOUGH_REPLICAS');
        expect(byRef.has(w.ref!), `refused ${w.ref} is not in the log`).toBe(false);
        refusals++;
      } else {
        expect(w.kind, w.text).toBe('ack');
        expect(byRef.get(w.ref!)).toBe(w.offset);
      }
    }
    expect(refusals).toBe(1);
    // Everyone is back in sync, as the leader's own /metadata/cluster says.
    await expect.poll(async () => {
      const view = await brokerGet<{ brokers: { in_sync: boolean }[] }>(`${urls.get(snap.leader!.id)}/metadata/cluster`, token!);
      return view?.brokers.filter((b) => b.in_sync).length;
    }, { timeout: 30_000 }).toBe(snap.brokers.length);
    // The setting is on the topic, as the brokers report it, and nowhere else.
    const topics = await brokerGet<{ topics: { name: string; config: Record<string, unknown> }[] }>(`${urls.get(snap.leader!.id)}/topics`, token!);
    expect(topics?.topics.find((t) => t.name === 'lesson-isr')?.config['min.insync.replicas']).toBe(2);
  } finally {
    await callApi(request, 'setTopicConfig', 'lesson-isr', { 'min.insync.replicas': null }).catch(() => undefined);
  }
});

test('lesson 6: the old leader cuts its uncommitted tail and copies the new leader’s records', async ({ page, request }) => {
  test.setTimeout(180_000);
  const token = clusterToken();
  test.skip(!token, 'needs the data folder of the web host this run started (not YAK_UI_BASE_URL)');
  const snap = await waitForHealthyCluster(request);
  await openLessons(page);
  const card = await runLesson(page, 'diverge', 150_000);
  const list = await entries(card);
  const killed = one(list, 'killed');
  const elected = one(list, 'new-leader');
  expect(killed.broker).toBe(snap.leader!.id);
  expect(list.some((e) => e.kind === 'truncated'), 'the old leader’s own output reports the cut').toBe(true);
  const rows = await card.getByTestId('lesson-diff-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset['verdict']));
  expect(rows.filter((v) => v === 'replaced' || v === 'cut').length).toBeGreaterThan(0);

  // The brokers' own API: none of the writes the old leader never committed is in the log; the new
  // leader's are at their offsets; and the old leader's log ends where the leader's does.
  const urls = new Map(snap.brokers.map((b) => [b.id, b.url]));
  const log = await consumeAll(urls.get(elected.broker!)!, token!, 'lesson-diverge');
  const byRef = new Map(log.map((r) => {
    const p = r.payload as { run?: string; n?: number };
    return [`${p.run}#${p.n}`, r.offset];
  }));
  // An unanswered write's outcome is unknown: a follower may have had it. Those missing from the
  // brokers' log are exactly the offsets the diff shows cut or replaced.
  const unanswered = list.filter((x) => x.kind === 'unanswered');
  expect(unanswered.length).toBeGreaterThan(0);
  const missing = unanswered.filter((e) => !byRef.has(e.ref!)).length;
  expect(missing).toBe(rows.filter((v) => v === 'replaced' || v === 'cut').length);
  const offsets = new Set(log.map((r) => r.offset));
  for (const e of list.filter((x) => x.kind === 'ack' && x.broker === elected.broker)) expect(offsets.has(e.offset!)).toBe(true);
  type Topics = { topics: { name: string; partitions: { log_end_offset: number }[] }[] };
  const end = async (id: string) => (await brokerGet<Topics>(`${urls.get(id)}/topics`, token!))?.topics.find((t) => t.name === 'lesson-diverge')?.partitions[0]?.log_end_offset;
  await expect.poll(async () => (await end(killed.broker!)) === (await end(elected.broker!)), { timeout: 30_000 }).toBe(true);
});
