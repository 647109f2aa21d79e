import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Notice {
  id: number;
  tone: 'error' | 'info' | 'success';
  text: string;
}

/** Short toasts for the outcome of actions started elsewhere (a kill, a failed restart, ...). */
export const useNoticesStore = defineStore('notices', () => {
  const items = ref<Notice[]>([]);
  let nextId = 1;

  function push(tone: Notice['tone'], text: string, ttlMs = tone === 'error' ? 8_000 : 4_000): void {
    const id = nextId++;
    items.value = [...items.value.slice(-4), { id, tone, text }];
    setTimeout(() => dismiss(id), ttlMs);
  }

  function dismiss(id: number): void {
    items.value = items.value.filter((n) => n.id !== id);
  }

  return { items, push, dismiss };
});
