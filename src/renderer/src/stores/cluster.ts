import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type {
  BrokerAction,
  ClusterEvent,
  ClusterSettings,
  ClusterSnapshot,
  TopicConfigChange,
  TopicSnapshot,
  Unsubscribe,
} from '../../../shared/cluster-api';
import { clusterApi, describeError } from '../bridge';
import { useNoticesStore } from './notices';
import { runningSettings } from '../lib/runningSettings';

const MAX_EVENTS = 500;
// The host pushes snapshots; if none arrived for this long we ask ourselves, so a host that only
// pushes on change (or a stream that is reconnecting) never leaves a stale dashboard.
const STALE_AFTER_MS = 3_000;
const DISCONNECTED_AFTER_MS = 8_000;
const REFRESH_TIMEOUT_MS = 5_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the YAK host did not answer within ${ms / 1000} s`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export const useClusterStore = defineStore('cluster', () => {
  const api = clusterApi();
  const notices = useNoticesStore();

  const snapshot = shallowRef<ClusterSnapshot | null>(null);
  /** Local time the snapshot arrived: countdowns run from here, immune to clock skew. */
  const receivedAt = ref(0);
  const events = shallowRef<ClusterEvent[]>([]);
  const loadError = ref<string | null>(null);
  const pending = reactive(new Map<string, BrokerAction | 'remove'>());
  const clusterBusy = ref<string | null>(null);
  const lastContactAt = ref(0);
  const now = ref(Date.now());

  const brokers = computed(() => snapshot.value?.brokers ?? []);
  const leader = computed(() => snapshot.value?.leader ?? null);
  const topics = computed(() => snapshot.value?.topics ?? []);
  const topicNames = computed(() => topics.value.map((t) => t.name).sort());
  /** Consumer groups with their lag, as the leader last listed them. */
  const groups = computed(() => snapshot.value?.groups ?? []);
  const groupLag = computed(() => snapshot.value?.groupLag ?? []);
  /** Members of the in-sync set as the leader reports it (0 without a leader). */
  const inSyncCount = computed(() => (leader.value ? brokers.value.filter((b) => b.inSync).length : 0));
  /** What the running brokers were started with (saved settings apply only on the next start). */
  const running = computed(() => runningSettings(snapshot.value));
  /** In-sync replicas a produce to the topic needs: its min.insync.replicas, else the brokers' --min-insync. */
  const minInsyncOf = (t: TopicSnapshot): number => t.config?.['min.insync.replicas'] ?? running.value.minInsync;
  /**
   * Topics the leader refuses writes to right now (NOT_ENOUGH_REPLICAS): fewer brokers in sync than
   * their min.insync.replicas. Only with a leader: without one every write is blocked anyway.
   */
  const blockedTopics = computed(() =>
    leader.value ? topics.value.filter((t) => minInsyncOf(t) > inSyncCount.value).map((t) => ({ name: t.name, required: minInsyncOf(t) })) : [],
  );
  const connected = computed(() => lastContactAt.value > 0 && now.value - lastContactAt.value < DISCONNECTED_AFTER_MS);
  /**
   * A picture is shown but the host has not sent one for a while (stopped, hung, unreachable): the
   * brokers may have moved on, so everything drawn is "as of lastContactAt", never current.
   */
  const stale = computed(() => snapshot.value !== null && !connected.value);

  function acceptSnapshot(s: ClusterSnapshot): void {
    snapshot.value = s;
    receivedAt.value = Date.now();
    lastContactAt.value = receivedAt.value;
    loadError.value = null;
  }

  /**
   * Merges events by their sequence number: each once, in the host's order, whichever way they
   * came (live stream or history). Not "only newer than the last one": the history asked for at
   * start can arrive after a live event, and was then dropped whole (issue: a page opened during a
   * failover showed its last events only). The host numbers events 1, 2, 3…: a hole before a live
   * event (the stream reconnected, the history is not in yet) asks for the history again.
   */
  function acceptEvents(incoming: ClusterEvent[]): void {
    const known = new Set(events.value.map((e) => e.seq));
    const fresh = incoming.filter((e) => !known.has(e.seq));
    if (fresh.length === 0) return;
    const merged = [...events.value, ...fresh].sort((a, b) => a.seq - b.seq).slice(-MAX_EVENTS);
    events.value = merged;
    if (hasHole(merged)) backfillEvents();
  }

  function hasHole(list: readonly ClusterEvent[]): boolean {
    // Below the oldest kept event nothing is missing (the host keeps 500 as this store does).
    for (let i = 1; i < list.length; i++) if (list[i]!.seq !== list[i - 1]!.seq + 1) return true;
    return false;
  }

  let backfilling = false;
  function backfillEvents(): void {
    if (backfilling) return;
    backfilling = true;
    api.recentEvents().then(
      (recent) => {
        backfilling = false;
        acceptEvents(recent);
      },
      () => (backfilling = false),
    );
  }

  let unsubscribers: Unsubscribe[] = [];
  let watchdog: ReturnType<typeof setInterval> | null = null;
  let polling = false;

  async function refresh(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      // A host that accepts the request and never answers (hung, SIGSTOP) must not hold every
      // later refresh up behind this one: give up after a while and ask again.
      acceptSnapshot(await withTimeout(api.getSnapshot(), REFRESH_TIMEOUT_MS));
    } catch (error) {
      loadError.value = describeError(error);
    } finally {
      polling = false;
    }
  }

  async function init(): Promise<void> {
    if (watchdog) return;
    unsubscribers = [api.onSnapshot(acceptSnapshot), api.onEvent((e) => acceptEvents([e]))];
    watchdog = setInterval(() => {
      now.value = Date.now();
      if (now.value - receivedAt.value > STALE_AFTER_MS) void refresh();
    }, 1_000);
    await refresh();
    api.recentEvents().then(acceptEvents, () => undefined);
  }

  function dispose(): void {
    unsubscribers.forEach((u) => u());
    unsubscribers = [];
    if (watchdog) clearInterval(watchdog);
    watchdog = null;
  }

  /** Runs a cluster call, reports a refusal as a toast, and refreshes so the result shows at once. */
  async function act<T>(label: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await run();
      void refresh();
      return result;
    } catch (error) {
      notices.push('error', `${label} failed — ${describeError(error)}`);
      return undefined;
    }
  }

  async function brokerAction(brokerId: string, action: BrokerAction): Promise<void> {
    pending.set(brokerId, action);
    try {
      await act(`${action} ${brokerId}`, () => api.brokerAction(brokerId, action));
    } finally {
      pending.delete(brokerId);
    }
  }

  async function removeBroker(brokerId: string): Promise<void> {
    pending.set(brokerId, 'remove');
    try {
      await act(`Remove ${brokerId}`, () => api.removeBroker(brokerId));
    } finally {
      pending.delete(brokerId);
    }
  }

  /** Creates a topic with that many partitions on the leader; true when the brokers accepted it. */
  async function createTopic(name: string, partitions: number): Promise<boolean> {
    clusterBusy.value = 'Create topic';
    try {
      return (await act(`Create topic ${name}`, async () => {
        await api.createTopic(name, partitions);
        return true;
      })) ?? false;
    } finally {
      clusterBusy.value = null;
    }
  }

  /**
   * Changes a topic's config on the leader, live. Returns null when the brokers took it, else the
   * reason (shown next to the field that asked, not only as a toast).
   */
  async function setTopicConfig(name: string, change: TopicConfigChange): Promise<string | null> {
    try {
      await api.setTopicConfig(name, change);
      void refresh();
      return null;
    } catch (error) {
      return describeError(error);
    }
  }

  async function cluster(label: string, run: () => Promise<unknown>): Promise<void> {
    clusterBusy.value = label;
    try {
      await act(label, run);
    } finally {
      clusterBusy.value = null;
    }
  }

  return {
    snapshot,
    receivedAt,
    events,
    loadError,
    pending,
    clusterBusy,
    connected,
    stale,
    lastContactAt,
    brokers,
    leader,
    topics,
    topicNames,
    groups,
    groupLag,
    inSyncCount,
    running,
    minInsyncOf,
    blockedTopics,
    setTopicConfig,
    init,
    dispose,
    refresh,
    brokerAction,
    removeBroker,
    createTopic,
    addBroker: () => cluster('Add broker', () => api.addBroker()),
    startCluster: () => cluster('Start cluster', () => api.startCluster()),
    stopCluster: () => cluster('Stop cluster', () => api.stopCluster()),
    wipeData: () => cluster('Wipe data', () => api.wipeData()),
    getSettings: () => api.getSettings(),
    updateSettings: (patch: Partial<ClusterSettings>) => act('Save settings', () => api.updateSettings(patch)),
    /** Saves settings; the refusal's reason, or null (the dialog shows it next to the field it names). */
    saveSettings: async (patch: Partial<ClusterSettings>): Promise<string | null> => {
      try {
        await api.updateSettings(patch);
        void refresh();
        return null;
      } catch (error) {
        return describeError(error);
      }
    },
    processOutput: (name: string) => api.processOutput(name),
  };
});
