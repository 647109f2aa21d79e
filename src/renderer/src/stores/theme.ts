import { defineStore } from 'pinia';
import { computed, ref, watchEffect } from 'vue';

export type ThemeChoice = 'system' | 'light' | 'dark';
const STORAGE_KEY = 'yak.theme';

/** The chosen theme lands on <html data-theme>; "system" follows prefers-color-scheme. */
export const useThemeStore = defineStore('theme', () => {
  const stored = localStorage.getItem(STORAGE_KEY);
  const choice = ref<ThemeChoice>(stored === 'light' || stored === 'dark' ? stored : 'system');
  const media = window.matchMedia('(prefers-color-scheme: dark)');
  const systemDark = ref(media.matches);
  media.addEventListener('change', (e) => (systemDark.value = e.matches));

  const effective = computed<'light' | 'dark'>(() =>
    choice.value === 'system' ? (systemDark.value ? 'dark' : 'light') : choice.value,
  );

  watchEffect(() => {
    document.documentElement.dataset.theme = effective.value;
    if (choice.value === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, choice.value);
  });

  function cycle(): void {
    choice.value = choice.value === 'system' ? 'light' : choice.value === 'light' ? 'dark' : 'system';
  }

  return { choice, effective, cycle };
});
