import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { FailoverOptions, FailoverTimeline } from '../../../shared/cluster-api';
import { clusterApi, describeError } from '../bridge';
import type { LessonContext } from '../lessons/context';
import { runDivergence } from '../lessons/divergence';
import { runFailover } from '../lessons/failover';
import { runGroups } from '../lessons/groups';
import { runHighWatermark } from '../lessons/highWatermark';
import { runIsrShrink } from '../lessons/isrShrink';
import { runRouting } from '../lessons/routing';
import { TimelineRecorder, type LessonId, type LessonRun } from '../lessons/timeline';
import { runZombie } from '../lessons/zombie';
import { useClusterStore } from './cluster';
import { useFailoverStore } from './failover';

/** A failover with the old leader restarted and caught up takes a few leases; this is far beyond. */
const FAILOVER_TIMEOUT_MS = 120_000;

/**
 * The Lessons pane's state: one run per lesson (the last one), and at most one lesson running at a
 * time — each of them acts on the one real cluster (kills, pauses), so two at once would muddle
 * both timelines.
 */
export const useLessonsStore = defineStore('lessons', () => {
  const api = clusterApi();
  const cluster = useClusterStore();
  const failover = useFailoverStore();

  const runs = shallowRef<Partial<Record<LessonId, LessonRun>>>({});
  const active = ref<LessonId | null>(null);
  const busy = computed(() => active.value !== null);

  function contextFor(run: LessonRun): LessonContext {
    const recorder = new TimelineRecorder(run);
    return {
      api,
      snapshot: () => cluster.snapshot,
      waitFor: (test, timeoutMs, what) => waitForValue(() => cluster.snapshot, test, timeoutMs, what),
      watchSnapshots: (listener) => watch(() => cluster.snapshot, listener),
      eventsSinceStart: () => cluster.events.filter((e) => e.at >= run.startedAt),
      record: (entry) => recorder.add(entry),
      setDiff: (rows) => {
        run.diff = rows;
      },
    };
  }

  /** The Dashboard's failover simulation, awaited until its timeline is over (the call may answer while it runs). */
  async function simulateToTheEnd(options: FailoverOptions): Promise<FailoverTimeline | null> {
    const started = await failover.simulate(options);
    if (!started) return null;
    return waitForValue(() => failover.timeline, (t) => t.id === started.id && t.state !== 'running', FAILOVER_TIMEOUT_MS, 'the failover simulation to finish');
  }

  async function start(id: LessonId, body: (ctx: LessonContext) => Promise<string>): Promise<void> {
    if (active.value) return;
    // Reactive, so a card sees each new entry and the end of the run (its props keep the same object).
    const run = reactive<LessonRun>({ id, state: 'running', startedAt: Date.now(), entries: [], outcome: null, error: null, diff: null });
    runs.value = { ...runs.value, [id]: run };
    active.value = id;
    try {
      // The Dashboard's failover simulation kills and restarts brokers too: never both at once.
      if (failover.running) throw new Error('a failover simulation (Dashboard) is running: run the lesson once it is over');
      run.outcome = await body(contextFor(run));
      run.state = 'done';
    } catch (error) {
      run.error = describeError(error);
      run.state = 'failed';
    } finally {
      active.value = null;
    }
  }

  return {
    runs,
    active,
    busy,
    runRouting: (key: string) => start('routing', (ctx) => runRouting(ctx, key)),
    runFailover: () => start('failover', (ctx) => runFailover(ctx, simulateToTheEnd)),
    runZombie: () => start('zombie', (ctx) => runZombie(ctx)),
    runHighWatermark: () => start('hwm', (ctx) => runHighWatermark(ctx)),
    runIsrShrink: () => start('isr', (ctx) => runIsrShrink(ctx)),
    runDivergence: () => start('diverge', (ctx) => runDivergence(ctx)),
    runGroups: () => start('groups', (ctx) => runGroups(ctx)),
  };
});

/** Resolves with the first value (the current one included) that passes `test`; rejects after `timeoutMs`. */
function waitForValue<T>(current: () => T | null, test: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const now = current();
    if (now && test(now)) return resolve(now);
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`waited ${Math.round(timeoutMs / 1000)} s for ${what}, in vain`));
    }, timeoutMs);
    const stop = watch(current, (s) => {
      if (s && test(s)) {
        clearTimeout(timer);
        stop();
        resolve(s);
      }
    });
  });
}
