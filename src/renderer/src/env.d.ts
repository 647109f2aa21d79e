/// <reference types="vite/client" />
import type { ClusterApi } from '../../shared/cluster-api';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in the browser, where the HTTP bridge is used. */
    yak?: ClusterApi;
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

export {};
