import { readonly, ref, type Ref } from 'vue';

/**
 * One shared 4 Hz clock for countdowns and "x s ago" labels, so a dashboard with many cards runs a
 * single timer instead of one per card.
 */
const now = ref(Date.now());
let timer: ReturnType<typeof setInterval> | null = null;

export function useNow(): Readonly<Ref<number>> {
  timer ??= setInterval(() => (now.value = Date.now()), 250);
  return readonly(now);
}
