import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { FailoverOptions, FailoverStepName, FailoverTimeline } from '../../../shared/cluster-api';
import { clusterApi, describeError } from '../bridge';
import { useClusterStore } from './cluster';
import { useNoticesStore } from './notices';

// The supervisor may answer simulateFailover only when it is over, so the timeline is also polled
// while it runs; that is what lets the Dashboard draw each step as it happens.
const POLL_MS = 300;

export const STEP_ORDER: FailoverStepName[] = [
  'leader-lost',
  'lease-expired',
  'new-leader',
  'first-commit',
  'old-leader-restarted',
  'caught-up',
];

export const useFailoverStore = defineStore('failover', () => {
  const api = clusterApi();
  const notices = useNoticesStore();

  const timeline = shallowRef<FailoverTimeline | null>(null);
  const options = reactive<FailoverOptions>({ mode: 'kill', restartOldLeader: true, demoProducer: true });
  const starting = ref(false);
  const running = computed(() => starting.value || timeline.value?.state === 'running');

  /** Steps this run will go through, so pending ones can be drawn greyed out before they happen. */
  const expectedSteps = computed<FailoverStepName[]>(() => {
    const restart = timeline.value?.options.restartOldLeader ?? options.restartOldLeader;
    return STEP_ORDER.filter((s) => restart || (s !== 'old-leader-restarted' && s !== 'caught-up'));
  });

  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let unsubscribe: (() => void) | null = null;

  function accept(t: FailoverTimeline | null): void {
    // A late poll must not overwrite a newer answer (e.g. the final one from simulateFailover).
    const cur = timeline.value;
    if (t && cur && t.id === cur.id && cur.state !== 'running' && t.state === 'running') return;
    timeline.value = t;
  }

  async function poll(): Promise<void> {
    pollTimer = null;
    try {
      accept(await api.getFailover());
    } catch {
      // The next tick tries again; a failover briefly makes everything slow.
    }
    if (running.value) pollTimer = setTimeout(poll, POLL_MS);
  }

  function startPolling(): void {
    if (!pollTimer) pollTimer = setTimeout(poll, POLL_MS);
  }

  async function init(): Promise<void> {
    if (!unsubscribe) {
      unsubscribe = api.onEvent((e) => {
        if (e.kind === 'failover-step') void poll();
      });
      // A new start forgets the last run (the supervisor does): drop its timeline here too.
      const cluster = useClusterStore();
      watch(
        () => cluster.snapshot?.running,
        (now, before) => {
          if (now && before === false) void poll();
        },
      );
    }
    try {
      accept(await api.getFailover());
      if (running.value) startPolling();
    } catch {
      // No failover yet, or the host is not up; the Dashboard shows the button either way.
    }
  }

  /** Runs a failover with the Dashboard's options, or with `override` (the Lessons pane's). */
  async function simulate(override?: FailoverOptions): Promise<FailoverTimeline | null> {
    if (running.value) return null;
    starting.value = true;
    startPolling();
    try {
      accept(await api.simulateFailover({ ...(override ?? options) }));
    } catch (error) {
      notices.push('error', `Simulate failover failed — ${describeError(error)}`);
    } finally {
      starting.value = false;
      if (timeline.value?.state === 'running') startPolling();
    }
    return timeline.value;
  }

  return { timeline, options, running, expectedSteps, init, simulate };
});
