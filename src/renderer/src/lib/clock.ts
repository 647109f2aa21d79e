import { readonly, ref, type Ref } from 'vue';

/**
 * One shared 4 Hz clock for countdowns and "x s ago" labels, so a dashboard with many cards runs a
 * single timer instead of one per card. It stops while the window is hidden (nobody reads the
 * countdowns then) and catches up at once when it is shown again.
 */
const TICK_MS = 250;
const now = ref(Date.now());
let timer: ReturnType<typeof setInterval> | null = null;
let listening = false;

function run(): void {
  if (timer || document.hidden) return;
  now.value = Date.now();
  timer = setInterval(() => (now.value = Date.now()), TICK_MS);
}

function onVisibility(): void {
  if (!document.hidden) return run();
  if (timer) clearInterval(timer);
  timer = null;
}

export function useNow(): Readonly<Ref<number>> {
  if (!listening) {
    listening = true;
    document.addEventListener('visibilitychange', onVisibility);
  }
  run();
  return readonly(now);
}
