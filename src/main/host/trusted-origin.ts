/** The origin the packaged renderer is served from (protocol.ts), never a file:// or remote URL. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'yak';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/**
 * Which page may call the ClusterApi: our own renderer, from app://yak, or during development
 * from the exact Vite dev server electron-vite started.
 */
export function trustedUrlCheck(devServerUrl?: string): (url: string) => boolean {
  const devOrigin = devServerUrl ? new URL(devServerUrl).origin : null;
  return (url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST) return true;
    return devOrigin !== null && parsed.origin === devOrigin;
  };
}
