/**
 * The renderer's Content-Security-Policy, one string for both hosts. Scripts only from our own
 * origin (no inline script, no eval); inline styles are allowed because Vue style bindings and
 * chart libraries set them; nothing is loaded from anywhere else; no plugins, no framing.
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * During `electron-vite dev` the page comes from Vite's dev server, which injects its client and
 * styles as modules and talks over a websocket: allow exactly that origin, nothing more.
 */
export function devRendererCsp(devServerUrl: string): string {
  const origin = new URL(devServerUrl).origin;
  const ws = origin.replace(/^http/, 'ws');
  return RENDERER_CSP.replace("script-src 'self'", `script-src 'self' ${origin}`).replace("connect-src 'self'", `connect-src 'self' ${origin} ${ws}`);
}
