import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { GroupDescription, GroupMemberAction, GroupMembersRequest } from '../../../shared/cluster-api';
import { clusterApi, describeError } from '../bridge';
import { assignmentOf, describeAssignment, describeMoves, movesBetween, type Assignment } from '../lib/groupAssignment';

/** How often the leader is asked for the group while the pane shows it. */
const POLL_MS = 700;
const MAX_HISTORY = 30;

export interface GenerationEntry {
  generation: number;
  /** When the app first saw it in the leader's answer. */
  seenAt: number;
  state: string;
  assignment: string;
  moves: string;
  movedCount: number;
}

/**
 * The Consumer pane's group: members the app runs (in the main process) and the group as the
 * leader's coordinator describes it, asked again every POLL_MS. Each new generation the leader
 * reports is kept with what moved — the rebalances, as the broker tells them.
 */
export const useGroupRunStore = defineStore('groupRun', () => {
  const api = clusterApi();
  const group = ref<string | null>(null);
  const topic = ref<string | null>(null);
  const description = shallowRef<GroupDescription | null>(null);
  const history = ref<GenerationEntry[]>([]);
  const error = ref<string | null>(null);
  const busy = ref(false);
  let last: Assignment | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let polling = false;
  /** The panel is on screen: only then is the leader asked. */
  let shown = false;

  function schedule(): void {
    const want = shown && group.value !== null;
    if (want && !timer) {
      timer = setInterval(() => void poll(), POLL_MS);
      void poll();
    } else if (!want && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  function setShown(value: boolean): void {
    shown = value;
    schedule();
  }

  async function poll(): Promise<void> {
    const name = group.value;
    if (!name || polling) return;
    polling = true;
    try {
      const d = await api.describeGroup(name);
      if (group.value !== name) return;
      description.value = d;
      error.value = null;
      const b = d.broker;
      if (b && b.state === 'Stable' && (!last || b.generation > last.generation)) {
        const now = assignmentOf(b, topic.value ?? undefined);
        const moves = movesBetween(last, now);
        history.value = [
          ...history.value,
          { generation: b.generation, seenAt: d.at, state: b.state, assignment: describeAssignment(now), moves: last ? describeMoves(moves) : 'first assignment', movedCount: last ? moves.length : 0 },
        ].slice(-MAX_HISTORY);
        last = now;
      }
    } catch (e) {
      error.value = describeError(e);
    } finally {
      polling = false;
    }
  }

  function watchGroup(name: string, topicName: string | null): void {
    if (group.value !== name) {
      history.value = [];
      last = null;
      description.value = null;
    }
    group.value = name;
    topic.value = topicName;
    schedule();
    void poll();
  }

  async function act(run: () => Promise<unknown>): Promise<void> {
    busy.value = true;
    try {
      await run();
      error.value = null;
    } catch (e) {
      error.value = describeError(e);
    } finally {
      busy.value = false;
      void poll();
    }
  }

  return {
    group,
    topic,
    description,
    history,
    error,
    busy,
    watchGroup,
    setShown,
    start: (request: GroupMembersRequest) =>
      act(async () => {
        watchGroup(request.group, request.topic);
        await api.startGroupMembers(request);
      }),
    memberAction: (name: string, action: GroupMemberAction) => act(() => api.groupMemberAction(name, action)),
    stopAll: () => act(async () => (group.value ? api.stopGroupMembers(group.value) : 0)),
    liveMembers: computed(() => (description.value?.members ?? []).filter((m) => m.state !== 'stopped' && m.state !== 'failed')),
  };
});
