import { defineStore } from 'pinia';
import { shallowRef, watch } from 'vue';
import { clusterApi } from '../bridge';
import { useClusterStore } from './cluster';
import { Subscription, type SubscriptionSpec } from './subscription';

// Long-polls hold an HTTP connection each; with few loops they may wait long (cheap, instant
// delivery), with many they return sooner so every partition gets its turn on the wire.
const LONG_WAIT_MS = 4_000;
const SHORT_WAIT_MS = 1_000;
const LONG_WAIT_MAX_LOOPS = 3;
/** Subscriptions (topic, partition, start, paused) are kept here so a reload brings them back. */
const STORAGE_KEY = 'yak.consumer.subscriptions';

interface SavedSubscription extends SubscriptionSpec {
  paused: boolean;
}

function loadSaved(): SavedSubscription[] {
  try {
    const raw = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as unknown;
    if (!Array.isArray(raw)) return [];
    // Only well-formed entries: storage is the user's to edit, and a bad one must not break the pane.
    return raw.filter(
      (x): x is SavedSubscription =>
        typeof x === 'object' && x !== null && typeof x.topic === 'string' && x.topic.length > 0 && x.topic.length <= 249 &&
        (x.partition === 'all' || (Number.isSafeInteger(x.partition) && x.partition >= 0)) &&
        (x.from === 'earliest' || x.from === 'latest' || (Number.isSafeInteger(x.from) && x.from >= 0) ||
          (typeof x.from === 'object' && x.from !== null && Number.isSafeInteger(x.from.timestamp))),
    ).slice(0, 20);
  } catch {
    return [];
  }
}

export const useConsumerStore = defineStore('consumer', () => {
  const api = clusterApi();
  const cluster = useClusterStore();
  const subscriptions = shallowRef<Subscription[]>([]);
  /** Topics that did not exist when a subscription was made (their partitions start at 0). */
  const waitingForTopic = new Set<number>();
  let nextId = 1;

  const totalLoops = () => subscriptions.value.reduce((n, s) => n + s.loopCount, 0);
  const waitMs = () => (totalLoops() <= LONG_WAIT_MAX_LOOPS ? LONG_WAIT_MS : SHORT_WAIT_MS);

  /** Subscriptions still asking the host whether their topic exists; they start once it answers. */
  const checking = new Set<number>();

  function attach(sub: Subscription): void {
    if (checking.has(sub.id)) return;
    const topic = cluster.topics.find((t) => t.name === sub.spec.topic);
    if (topic) sub.ensurePartitions(topic.partitions.length, waitingForTopic.has(sub.id));
  }

  // The snapshot can lag a topic created a moment ago; only the host can say whether the topic is
  // really new (then all of it is newer than the subscription) or just not in our picture yet.
  async function resolveTopic(sub: Subscription): Promise<void> {
    checking.add(sub.id);
    try {
      const found = (await api.listTopics()).find((t) => t.name === sub.spec.topic);
      checking.delete(sub.id);
      if (found) sub.ensurePartitions(found.partitions.length, false);
      else waitingForTopic.add(sub.id);
    } catch {
      checking.delete(sub.id);
      waitingForTopic.add(sub.id);
    }
    attach(sub);
  }

  // Partition counts come from the cluster snapshot; a subscription to a topic that does not exist
  // yet starts polling only once it appears, instead of hammering the host with UNKNOWN_TOPIC.
  watch(
    () => cluster.topics,
    () => subscriptions.value.forEach(attach),
  );

  function subscribe(spec: SubscriptionSpec): Subscription {
    const logStartOf = (partition: number) =>
      cluster.topics.find((t) => t.name === spec.topic)?.partitions.find((p) => p.partition === partition)?.logStartOffset ?? 0;
    const sub = new Subscription(nextId++, spec, api, waitMs, logStartOf);
    subscriptions.value = [...subscriptions.value, sub];
    if (cluster.topics.some((t) => t.name === spec.topic)) attach(sub);
    else void resolveTopic(sub);
    return sub;
  }

  function unsubscribe(id: number): void {
    subscriptions.value.find((s) => s.id === id)?.close();
    subscriptions.value = subscriptions.value.filter((s) => s.id !== id);
    waitingForTopic.delete(id);
    checking.delete(id);
  }

  function save(): void {
    const saved: SavedSubscription[] = subscriptions.value.map((s) => ({ ...s.spec, paused: s.paused.value }));
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
    } catch {
      // Storage full or disabled: subscriptions then last as long as the page.
    }
  }
  watch(() => subscriptions.value.map((s) => `${s.id}:${s.paused.value}`).join(','), save);

  for (const saved of loadSaved()) {
    const sub = subscribe({ topic: saved.topic, partition: saved.partition, from: saved.from });
    if (saved.paused) sub.pause();
  }

  return { subscriptions, subscribe, unsubscribe };
});
